/**
 * Window-by-window verdicts. A window with fewer requests than `minSamples`
 * (overall, or for a scoped clause's request name) is "insufficient", never a
 * pass. Windows inside a stage's warm-up are "excluded". Latency clauses count
 * the requests still waiting at the window's end at their age so far, so a
 * stalled dependency breaks the window in which it stalls.
 */
import type { Window, Stats } from '../result.ts';
import { mergeEncoded, view, percentileMs } from '../metrics/histogram.ts';
import { compare, type Clause } from './parse.ts';

export type ClauseStatus = 'pass' | 'fail' | 'insufficient';

export interface ClauseResult {
  clause: string;
  status: ClauseStatus;
  /** Measured value: ms for latency, a fraction for errors and achieved. */
  value: number;
  samples: number;
}

export interface WindowVerdict {
  window: number;
  status: 'pass' | 'fail' | 'insufficient' | 'excluded';
  clauses: ClauseResult[];
}

/** The value a clause measures in one window. */
export function measure(c: Clause, w: Window): { value: number; samples: number } {
  const s: Stats | undefined = c.scope === undefined ? w.overall : w.byName[c.scope];
  if (!s) return { value: 0, samples: 0 };
  switch (c.metric.type) {
    case 'errors':
      return { value: s.requests > 0 ? s.errors / s.requests : 0, samples: s.requests };
    case 'achieved':
      return { value: w.offered > 0 ? w.overall.requests / w.offered : 1, samples: w.offered };
    default: {
      // Requests still waiting at the window's end count at their age so far (a lower bound).
      const h = s.pending === undefined ? view(s.latency) : mergeEncoded([s.latency, s.pending]);
      if (h.totalCount === 0) return { value: 0, samples: 0 };
      const m = c.metric;
      const value = m.type === 'percentile' ? percentileMs(h, m.p) : m.type === 'mean' ? h.mean / 1000 : m.type === 'max' ? h.maxValue / 1000 : h.minNonZeroValue / 1000;
      return { value, samples: h.totalCount };
    }
  }
}

export function evaluateWindow(w: Window, clauses: readonly Clause[], minSamples: number, excluded = false): WindowVerdict {
  const results: ClauseResult[] = clauses.map((c) => {
    const { value, samples } = measure(c, w);
    const status: ClauseStatus = samples < minSamples ? 'insufficient' : compare(value, c.op, c.threshold) ? 'pass' : 'fail';
    return { clause: c.text, status, value, samples };
  });
  let status: WindowVerdict['status'] = 'pass';
  if (excluded) status = 'excluded';
  else if (results.some((r) => r.status === 'fail')) status = 'fail';
  else if (results.some((r) => r.status === 'insufficient')) status = 'insufficient';
  return { window: w.index, status, clauses: results };
}
