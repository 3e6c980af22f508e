/**
 * Where the time went, read from stored windows: the phase histograms of a set
 * of Stats merged exactly, each phase's share of the time spent, and the
 * dominant one — what a report names when a clause breaks ("ttfb 81%").
 */
import { PHASES, type Phase, type Stats, type Timeline } from '../timeline.ts';
import { mergeEncoded } from './histogram.ts';

export interface PhaseShare {
  phase: Phase;
  /** Samples: requests (wait, ttfb, transfer) or new connections (connect). */
  count: number;
  /** Time spent in the phase, summed over its samples, ms. */
  totalMs: number;
  /** Its share of the time spent in all phases (0..1). */
  share: number;
  p50: number;
  p99: number;
}

/** Every phase seen in `stats`, the largest share first. */
export function phaseBreakdown(stats: readonly Stats[]): PhaseShare[] {
  const out: PhaseShare[] = [];
  for (const phase of PHASES) {
    const parts: string[] = [];
    for (const s of stats) {
      const h = s.phases?.[phase];
      if (h !== undefined) parts.push(h);
    }
    if (parts.length === 0) continue;
    const h = mergeEncoded(parts);
    if (h.totalCount === 0) continue;
    out.push({ phase, count: h.totalCount, totalMs: (h.mean * h.totalCount) / 1000, share: 0, p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000 });
  }
  const all = out.reduce((a, p) => a + p.totalMs, 0);
  for (const p of out) p.share = all > 0 ? p.totalMs / all : 0;
  return out.sort((a, b) => b.totalMs - a.totalMs);
}

/** The phases of windows [from, to] of a timeline, for one request name (`scope`) or all. */
export function windowPhases(t: Timeline, from: number, to: number, scope?: string): PhaseShare[] {
  const stats: Stats[] = [];
  for (const w of t.windows) {
    if (w.index < from || w.index > to) continue;
    const s = scope ? w.byName[scope] : w.overall;
    if (s) stats.push(s);
  }
  return phaseBreakdown(stats);
}

const NAMES: Record<Phase, string> = { wait: 'waiting for a connection slot', connect: 'connect', ttfb: 'time to first byte', transfer: 'transfer' };

/** "time to first byte 81% (p99 480 ms)": the dominant phase in words; '' when no phase was measured. */
export function dominantText(shares: readonly PhaseShare[]): string {
  const d = shares[0];
  if (!d) return '';
  const ms = d.p99 >= 100 ? Math.round(d.p99) : Math.round(d.p99 * 10) / 10;
  return `${NAMES[d.phase]} ${Math.round(d.share * 100)}% (p99 ${ms} ms)`;
}
