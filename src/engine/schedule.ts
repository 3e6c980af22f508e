/**
 * The arrival schedule of one stage (the "when", apart from sending).
 * The rate goes linearly from r0 to r1 req/s over T ms (constant when equal), so
 * the number of arrivals by time t is N(t) = r0·t + (r1−r0)·t²/(2T) (t in s), and
 * arrival k happens when N(t) = k + phase. A phase in [0,1) lets several workers
 * interleave their arrivals evenly instead of sending in lockstep.
 */

/** Number of arrivals with intended time strictly before `elapsedMs`. */
export function arrivalsBefore(elapsedMs: number, r0: number, r1: number, durationMs: number, phase: number): number {
  if (elapsedMs <= 0) return 0;
  const t = elapsedMs / 1000;
  const T = durationMs / 1000;
  const n = r0 * t + (T > 0 ? ((r1 - r0) * t * t) / (2 * T) : 0);
  const c = Math.ceil(n - phase - 1e-9);
  return c > 0 ? c : 0;
}

/** Intended time of arrival k, ms from the stage start (Infinity if it never comes). */
export function arrivalTime(k: number, r0: number, r1: number, durationMs: number, phase: number): number {
  const target = k + phase;
  const T = durationMs / 1000;
  const a = T > 0 ? (r1 - r0) / (2 * T) : 0;
  if (Math.abs(a) < 1e-12) return r0 > 0 ? (target / r0) * 1000 : Infinity;
  // a·t² + r0·t − target = 0, the root in [0, ∞).
  const disc = r0 * r0 + 4 * a * target;
  if (disc < 0) return Infinity;
  return ((-r0 + Math.sqrt(disc)) / (2 * a)) * 1000;
}
