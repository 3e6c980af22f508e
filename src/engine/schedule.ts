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

/**
 * A share of a schedule (k6's execution segments): segment `index` of `count`
 * takes the arrivals i ≡ index (mod count) of every stage, so `count` segments
 * together send exactly the single-sender schedule, whatever the profile.
 * With the rate divided by `count` and the phase index/count, arrival m of the
 * segment falls where the whole schedule's N(t) = m·count + index: that is
 * global arrival i = m·count + index.
 */
export interface Segment {
  index: number;
  count: number;
}

export const WHOLE: Segment = { index: 0, count: 1 };

/** Segment `sub` of `subCount` inside `outer`: the agent's arrivals split again among its workers. */
export function subSegment(outer: Segment, sub: number, subCount: number): Segment {
  // Within outer's arrivals (i = outer.index + outer.count·m), sub takes m ≡ sub (mod subCount).
  return { index: outer.index + outer.count * sub, count: outer.count * subCount };
}

/** The segment's arrival rate and phase for the arrivalsBefore/arrivalTime formulas. */
export function segmentRate(seg: Segment, rate: number): number {
  return rate / seg.count;
}

export function segmentPhase(seg: Segment): number {
  return seg.count > 1 ? seg.index / seg.count : 0;
}

/** Closed model: the segment's share of a fixed concurrency (shares add up to the whole). */
export function concurrencyShare(seg: Segment, concurrency: number): number {
  return Math.floor(concurrency / seg.count) + (seg.index < concurrency % seg.count ? 1 : 0);
}

/** How many of a stage's `total` arrivals (global indices 0…total−1) the segment sends. */
export function segmentArrivals(seg: Segment, total: number): number {
  return total > seg.index ? Math.ceil((total - seg.index) / seg.count) : 0;
}
