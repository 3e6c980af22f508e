/**
 * Capacity: the highest level that held, its headroom against the expected
 * peak, and a Universal Scalability Law fit of achieved throughput X against
 * offered load N:  X(N) = λN / (1 + σ(N−1) + κN(N−1)),  N in units of the
 * lowest offered level. σ is contention, κ coherency; the predicted peak is at
 * N* = √((1−σ)/κ). The fit is least squares (λ in closed form, σ and κ by a
 * grid refined twice) and is called poor when R² < 0.9.
 */

export interface UslFit {
  sigma: number;
  kappa: number;
  lambda: number;
  r2: number;
  /** Offered load (req/s) where throughput is predicted to peak; undefined when κ≈0 (no retrograde region seen). */
  peakOffered?: number;
  peakThroughput?: number;
  poor: boolean;
  note: string;
}

export interface Capacity {
  /** Highest load level (req/s) at which the hypothesis held, below any breaking point. */
  highestHeld?: number;
  /** highestHeld / expectedPeak. */
  headroom?: number;
  expectedPeak?: number;
  usl?: UslFit;
  uslNote?: string;
}

export function fitUsl(points: readonly { offered: number; achieved: number }[]): UslFit | string {
  const pts = points.filter((p) => p.offered > 0 && Number.isFinite(p.achieved));
  if (pts.length < 4) return `a USL fit needs at least 4 stages with load; this run has ${pts.length}`;
  const n0 = Math.min(...pts.map((p) => p.offered));
  const ns = pts.map((p) => p.offered / n0);
  const xs = pts.map((p) => p.achieved);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const ssTot = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  const evalAt = (sigma: number, kappa: number) => {
    const f = ns.map((n) => n / (1 + sigma * (n - 1) + kappa * n * (n - 1)));
    const lambda = f.reduce((a, fi, i) => a + fi * xs[i], 0) / f.reduce((a, fi) => a + fi * fi, 0);
    const ss = f.reduce((a, fi, i) => a + (xs[i] - lambda * fi) ** 2, 0);
    return { lambda, ss };
  };
  let best = { sigma: 0, kappa: 0, ...evalAt(0, 0) };
  let sLo = 0, sHi = 1, kLo = 0, kHi = 1;
  for (let round = 0; round < 3; round++) {
    const steps = 40;
    for (let a = 0; a <= steps; a++) {
      const sigma = sLo + ((sHi - sLo) * a) / steps;
      for (let b = 0; b <= steps; b++) {
        // κ spans orders of magnitude: search it on a log-like scale in the first round.
        const kappa = round === 0 ? (b === 0 ? 0 : Math.pow(10, -6 + (6 * b) / steps)) : kLo + ((kHi - kLo) * b) / steps;
        const r = evalAt(sigma, kappa);
        if (r.ss < best.ss) best = { sigma, kappa, ...r };
      }
    }
    const ds = (sHi - sLo) / 10;
    sLo = Math.max(0, best.sigma - ds);
    sHi = Math.min(1, best.sigma + ds);
    const dk = Math.max(best.kappa, 1e-7);
    kLo = Math.max(0, best.kappa - dk);
    kHi = best.kappa + dk;
  }
  const r2 = ssTot > 0 ? 1 - best.ss / ssTot : 1;
  const fit: UslFit = { sigma: best.sigma, kappa: best.kappa, lambda: best.lambda, r2, poor: r2 < 0.9, note: '' };
  if (best.kappa > 1e-9 && best.sigma < 1) {
    const nStar = Math.sqrt((1 - best.sigma) / best.kappa);
    fit.peakOffered = nStar * n0;
    fit.peakThroughput = (best.lambda * nStar) / (1 + best.sigma * (nStar - 1) + best.kappa * nStar * (nStar - 1));
  }
  fit.note = fit.poor
    ? `the USL fits poorly (R² ${r2.toFixed(2)}): throughput does not follow a contention/coherency curve over these stages`
    : fit.peakOffered !== undefined
      ? `USL predicts throughput peaks near ${Math.round(fit.peakThroughput!)} req/s at ${Math.round(fit.peakOffered)} req/s offered (R² ${r2.toFixed(2)})`
      : `USL fit (R² ${r2.toFixed(2)}) shows no coherency penalty: no peak predicted within reach`;
  return fit;
}
