/**
 * Synthetic Timelines for analysis tests: windows with known latencies and
 * errors per request name, and fault events at known times, so correlation
 * can be checked against exact ground truth (no sockets, no clocks).
 */
import { encode, newHistogram } from '../../src/metrics/histogram.ts';
import type { Stats, Timeline, TimelineEvent, Window } from '../../src/timeline.ts';
import { evaluateWindow, type WindowVerdict } from '../../src/hypothesis/evaluate.ts';
import { parseClause, type Clause } from '../../src/hypothesis/parse.ts';

export const T0 = 1_000_000;
export const TICK = 1000;

/** One request name in one window: `n` requests at `ms` latency, `errors` of them errors. */
export interface Part {
  n: number;
  ms: number;
  errors?: number;
}

function stats(p: Part): Stats {
  const h = newHistogram();
  h.recordValueWithCount(Math.round(p.ms * 1000), p.n);
  const latency = encode(h);
  h.destroy();
  const errors = p.errors ?? 0;
  return { requests: p.n, errors, byKind: errors ? { http_5xx: errors } : {}, examples: errors ? { http_5xx: 'HTTP 503' } : {}, latency, service: latency };
}

function merged(parts: Part[]): Stats {
  const h = newHistogram();
  let n = 0;
  let errors = 0;
  for (const p of parts) {
    h.recordValueWithCount(Math.round(p.ms * 1000), p.n);
    n += p.n;
    errors += p.errors ?? 0;
  }
  const latency = encode(h);
  h.destroy();
  return { requests: n, errors, byKind: errors ? { http_5xx: errors } : {}, examples: {}, latency, service: latency };
}

/** Windows from a list of {name: Part} per window, at `rate` req/s offered each (or per window). */
export function windows(spec: Record<string, Part>[], rate: number | number[] = 100, stage: (i: number) => number = () => 0): Window[] {
  return spec.map((byPart, i) => {
    const byName: Record<string, Stats> = {};
    for (const [n, p] of Object.entries(byPart)) byName[n] = stats(p);
    const overall = merged(Object.values(byPart));
    const r = Array.isArray(rate) ? rate[i] : rate;
    return {
      index: i,
      stage: stage(i),
      start: T0 + i * TICK,
      end: T0 + (i + 1) * TICK,
      offered: r,
      sent: r,
      offeredRate: r,
      achievedRate: overall.requests,
      overall,
      byName,
      generator: { maxLagMs: 1, elu: 0.1, slipP99Ms: 0.1, backlog: 0, inFlight: 0, limited: false },
    };
  });
}

export interface FaultAt {
  name: string;
  /** Seconds from T0. */
  start: number;
  end?: number;
  detail?: Record<string, unknown>;
}

export function timeline(ws: Window[], faults: FaultAt[] = []): Timeline {
  const events: TimelineEvent[] = [{ t: T0, type: 'run-start' }, { t: T0, type: 'stage-start', stage: 0, offeredRate: ws[0]?.offeredRate ?? 0, label: 'stage' }];
  for (const f of faults) {
    events.push({ t: T0 + f.start * 1000, type: 'fault-start', fault: f.name, kind: 'latency', target: 'dep', offeredRate: 100 });
    if (f.end !== undefined) events.push({ t: T0 + f.end * 1000, type: 'fault-stop', fault: f.name, kind: 'latency', offeredRate: 100, ...(f.detail ? { detail: f.detail } : {}) });
  }
  events.sort((a, b) => a.t - b.t);
  events.push({ t: T0 + ws.length * TICK, type: 'run-end' });
  return { tickMs: TICK, windows: ws, events };
}

export function clauses(...texts: string[]): Clause[] {
  return texts.map((t) => {
    const c = parseClause(t);
    if (typeof c === 'string') throw new Error(c);
    return c;
  });
}

export function verdictsOf(t: Timeline, cs: Clause[], minSamples = 20): WindowVerdict[] {
  return t.windows.map((w) => evaluateWindow(w, cs, minSamples));
}

/** `n` windows of healthy traffic for two names. */
export const healthy = (n = 50): Record<string, Part> => ({ slow: { n, ms: 5 }, fast: { n, ms: 2 } });
export const slowed = (n = 50, ms = 300): Record<string, Part> => ({ slow: { n, ms }, fast: { n, ms: 2 } });
