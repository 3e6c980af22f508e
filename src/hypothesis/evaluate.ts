/**
 * Window-by-window verdicts: pass, fail or inconclusive (never a pass on too
 * little evidence). Windows inside a stage's warm-up are "excluded".
 *
 * Stuck requests are evidence, not a lack of it. A window counts the
 * requests that completed *and* those still waiting at its end:
 * - latency clauses take the waiting ones at their age so far (a lower bound),
 *   so a stalled dependency breaks the window in which it stalls;
 * - the errors clause fails when even the lower bound of the error rate,
 *   errors / (completed + waiting), breaks it — ten answers, all errors, while
 *   hundreds wait is an outage, not "too few samples" — and passes only on
 *   `minSamples` completed requests.
 * A clause with fewer than `minSamples` requests due (completed + waiting), or
 * one the waiting requests leave open, is inconclusive.
 */
import type { Window, Stats } from '../timeline.ts';
import { mergeEncoded, view, percentileMs } from '../metrics/histogram.ts';
import { compare, type Clause } from './parse.ts';

export type ClauseStatus = 'pass' | 'fail' | 'inconclusive';

export interface ClauseResult {
  clause: string;
  status: ClauseStatus;
  /** Measured value: ms for latency, a fraction for errors and achieved (a lower bound when requests were waiting). */
  value: number;
  /** Requests due: completed plus still waiting at the window's end. */
  samples: number;
  /** Of those, still waiting at the window's end (absent when none). */
  waiting?: number;
}

export interface WindowVerdict {
  window: number;
  /** inconclusive: too few requests to judge, or (scale-out) an agent's share of the load is missing (Window.agentProblems). */
  status: 'pass' | 'fail' | 'inconclusive' | 'excluded';
  clauses: ClauseResult[];
}

/** Requests still waiting at a window's end, from the encoded pending histogram. */
export function waitingOf(s: Stats): number {
  return s.pending === undefined ? 0 : view(s.pending).totalCount;
}

/**
 * The value a clause measures in one window, over `samples` requests due
 * (completed + waiting); `completed` of them finished in the window.
 */
export function measure(c: Clause, w: Window): { value: number; samples: number; completed: number; waiting: number } {
  if (c.metric.type === 'probe') {
    // Judged by the polls that finished in the window: none, no evidence.
    const p = w.probes?.[c.metric.probe];
    if (!p) return { value: 0, samples: 0, completed: 0, waiting: 0 };
    return { value: c.metric.check === 'ok' ? (p.ok ? 1 : 0) : p.latencyMs, samples: p.polls, completed: p.polls, waiting: 0 };
  }
  const s: Stats | undefined = c.scope === undefined ? w.overall : w.byName[c.scope];
  if (!s) return { value: 0, samples: 0, completed: 0, waiting: 0 };
  const waiting = waitingOf(s);
  switch (c.metric.type) {
    case 'errors': {
      const due = s.requests + waiting;
      return { value: due > 0 ? s.errors / due : 0, samples: due, completed: s.requests, waiting };
    }
    case 'achieved':
      return { value: w.offered > 0 ? w.overall.requests / w.offered : 1, samples: w.offered, completed: w.offered, waiting: 0 };
    default: {
      // Requests still waiting at the window's end count at their age so far (a lower bound).
      const h = s.pending === undefined ? view(s.latency) : mergeEncoded([s.latency, s.pending]);
      if (h.totalCount === 0) return { value: 0, samples: 0, completed: 0, waiting: 0 };
      const m = c.metric;
      const value = m.type === 'percentile' ? percentileMs(h, m.p) : m.type === 'mean' ? h.mean / 1000 : m.type === 'max' ? h.maxValue / 1000 : h.minNonZeroValue / 1000;
      return { value, samples: h.totalCount, completed: s.requests, waiting };
    }
  }
}

/** One clause's verdict in one window. */
export function judgeClause(c: Clause, w: Window, minSamples: number): ClauseResult {
  const m = measure(c, w);
  const base = { clause: c.text, value: m.value, samples: m.samples, ...(m.waiting > 0 ? { waiting: m.waiting } : {}) };
  // One poll is a probe's whole evidence for a window; minSamples is about requests.
  if (m.samples < (c.metric.type === 'probe' ? 1 : Math.max(1, minSamples))) return { ...base, status: 'inconclusive' };
  const holds = compare(m.value, c.op, c.threshold);
  if (c.metric.type === 'errors' && m.waiting > 0) {
    // The lower bound breaks it: fail. Otherwise the completed ones must be enough to pass on their own.
    if (!holds) return { ...base, status: 'fail' };
    if (m.completed < Math.max(1, minSamples)) return { ...base, status: 'inconclusive' };
    const done = m.completed > 0 ? (c.scope === undefined ? w.overall : w.byName[c.scope])!.errors / m.completed : 0;
    return { ...base, value: done, status: compare(done, c.op, c.threshold) ? 'pass' : 'fail' };
  }
  return { ...base, status: holds ? 'pass' : 'fail' };
}

export function evaluateWindow(w: Window, clauses: readonly Clause[], minSamples: number, excluded = false): WindowVerdict {
  const results = clauses.map((c) => judgeClause(c, w, minSamples));
  let status: WindowVerdict['status'] = 'pass';
  if (excluded) status = 'excluded';
  else if (w.agentProblems?.length) status = 'inconclusive';
  else if (results.some((r) => r.status === 'fail')) status = 'fail';
  else if (results.length === 0 || results.some((r) => r.status === 'inconclusive')) status = results.length === 0 ? 'pass' : 'inconclusive';
  return { window: w.index, status, clauses: results };
}
