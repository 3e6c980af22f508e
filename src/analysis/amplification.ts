/**
 * What the dependencies saw: for each fault proxy, the requests (HTTP proxies)
 * or connections (TCP proxies) the system under test sent through it towards its
 * dependency, divided by the requests the system received from the load —
 * amplification. (Calls a fault answered count: the system made them.) A
 * client that retries three times shows ≈ 3 while its dependency fails; a
 * thundering herd after a recovery shows as a peak right after the fault.
 *
 * Ratios are of sums over windows (never means of per-window ratios, which a
 * quiet window would skew). The denominator is the requests that finished in
 * the windows, not those sent: a system's calls to its dependencies happen
 * while it serves a request, so on a slow system they line up with the
 * request's end far better than with its start. Each fault gets its before / during / after
 * figures and the peak after it: what follows a fault is attributed to it.
 */
import type { Timeline, Window } from '../timeline.ts';

export interface AmplificationFigure {
  /** Dependency requests (or connections) ÷ requests the system received and finished; null without any. */
  ratio: number | null;
  dependency: number;
  /** Requests of the load that finished (answered or failed) in these windows. */
  received: number;
}

export interface FaultAmplification {
  fault: string;
  before: AmplificationFigure;
  during: AmplificationFigure;
  after: AmplificationFigure;
  /** The highest single-window ratio from the fault's start to the end of `after`, and when. */
  peak: { ratio: number; t: number } | null;
}

export interface DependencyAmplification {
  /** The proxy's name (the dependency behind it). */
  dependency: string;
  /** What is counted: requests for HTTP proxies, connections for TCP proxies. */
  unit: 'requests' | 'connections';
  overall: AmplificationFigure;
  byFault: FaultAmplification[];
}

/** How far before and after a fault its before / after figures look, ms. */
export const AMPLIFICATION_SPAN_MS = 5000;

function figure(ws: Window[], dep: string, unit: 'requests' | 'connections'): AmplificationFigure {
  let dependency = 0;
  let received = 0;
  for (const w of ws) {
    const d = w.dependencies?.[dep];
    if (!d) continue;
    dependency += unit === 'requests' ? (d.requests ?? 0) : d.connections;
    received += w.overall.requests;
  }
  return { ratio: received > 0 ? dependency / received : null, dependency, received };
}

/** Amplification per dependency, overall and around each fault; empty when no window saw a proxy. */
export function amplification(timeline: Timeline): DependencyAmplification[] {
  const deps = new Map<string, 'requests' | 'connections'>();
  for (const w of timeline.windows) {
    for (const [name, d] of Object.entries(w.dependencies ?? {})) {
      if (d.requests !== undefined) deps.set(name, 'requests');
      else if (!deps.has(name)) deps.set(name, 'connections');
    }
  }
  const faults: { fault: string; start: number; end: number }[] = [];
  for (const e of timeline.events) {
    if (e.type === 'fault-start') faults.push({ fault: e.fault, start: e.t, end: Infinity });
    if (e.type === 'fault-stop') {
      const f = faults.find((x) => x.fault === e.fault && x.end === Infinity);
      if (f) f.end = e.t;
    }
  }
  const lastEnd = timeline.windows.at(-1)?.end ?? 0;
  return [...deps].map(([dependency, unit]) => ({
    dependency,
    unit,
    overall: figure(timeline.windows, dependency, unit),
    byFault: faults.map((f) => {
      const end = Number.isFinite(f.end) ? f.end : lastEnd;
      const before = timeline.windows.filter((w) => w.end <= f.start && w.start >= f.start - AMPLIFICATION_SPAN_MS);
      // Windows wholly inside the fault (a window half in it would dilute the figure); a fault shorter than a window gets the ones it touches.
      const touching = timeline.windows.filter((w) => w.start < end && w.end > f.start);
      const inside = touching.filter((w) => w.start >= f.start && w.end <= end);
      const during = inside.length ? inside : touching;
      const after = timeline.windows.filter((w) => w.start >= end && w.end <= end + AMPLIFICATION_SPAN_MS);
      let peak: FaultAmplification['peak'] = null;
      for (const w of [...touching, ...after]) {
        const r = figure([w], dependency, unit);
        if (r.ratio !== null && (peak === null || r.ratio > peak.ratio)) peak = { ratio: r.ratio, t: w.start };
      }
      return { fault: f.fault, before: figure(before, dependency, unit), during: figure(during, dependency, unit), after: figure(after, dependency, unit), peak };
    }),
  }));
}
