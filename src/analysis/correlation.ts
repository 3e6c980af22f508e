/**
 * Fault correlation, computed from the Timeline alone (and the window verdicts
 * the hypothesis gave it): for every fault, what the hypothesis metrics were
 * before, during and after it, overall and per request name; how long it took
 * to hurt (time to impact) and to heal (time to recovery); whether the
 * hypothesis held; and its blast radius — which request names it broke.
 *
 * Definitions (all at the resolution of one window):
 * - time to impact: fault start → start of the first failing window of a
 *   breach attributed to the fault (breaches.ts attributes; blips count as
 *   impact too), never negative;
 * - time to recovery: fault end → start of the first window of a run of
 *   `sustain` passing windows that ends after the fault did (or a shorter
 *   run of passes that a breach of another cause cut short); undefined with
 *   `recovery: 'not-recovered'` when no such run came before the run ended;
 * - held: no sustained breach was attributed to the fault, nor was one (begun
 *   earlier, by load) still going while it was active — those are listed as
 *   `preexisting`, never blamed on the fault;
 * - blast radius: each request name is judged by the hypothesis's clauses
 *   applied to that name alone (unscoped latency/error clauses, and clauses
 *   scoped to it); a name is affected when it had a sustained breach
 *   attributed to the fault.
 */
import type { Stats, Timeline, Window, StageResult } from '../timeline.ts';
import type { Clause } from '../hypothesis/parse.ts';
import { evaluateWindow, measure, type WindowVerdict } from '../hypothesis/evaluate.ts';
import { combineWindows, mergeStats } from '../metrics/merge.ts';
import { percentileMs, view } from '../metrics/histogram.ts';
import type { StagePlan } from '../profiles/types.ts';
import { faultIntervals, findBreaches, type Breach, type FaultInterval } from './breaches.ts';

/** What a span of windows saw: the hypothesis metrics, merged exactly. */
export interface Snapshot {
  windows: number;
  requests: number;
  /** Latency percentiles over the span, ms (0 when there were no requests). */
  p50: number;
  p99: number;
  errorRate: number;
  /** Completed requests per second. */
  achievedRate: number;
  /** Planned arrivals per second (overall only; per name the split is not planned). */
  offeredRate?: number;
}

export interface Phases {
  before: Snapshot | null;
  during: Snapshot | null;
  after: Snapshot | null;
}

/** How one request name fared while a fault was active (and just after). */
export interface NameImpact {
  /** breached: a sustained breach attributed to the fault; blip: only shorter ones; held; inconclusive: too few requests due to judge. */
  status: 'breached' | 'blip' | 'held' | 'inconclusive';
  /** The per-name clauses that broke, as "slow.p99 < 100ms". */
  clauses: string[];
}

export interface FaultImpact {
  clause: string;
  /** The clause's value before the fault (over the `before` span), when measurable. */
  before?: number;
  /** Worst value over the breach. */
  worst: number;
  sustained: boolean;
}

export interface FaultCorrelation {
  fault: string;
  kind: string;
  target?: string;
  /** Epoch ms. */
  start: number;
  end: number;
  /** Since the run started, ms: when the effect was in place and when its undo had taken effect. */
  startElapsedMs: number;
  endElapsedMs: number;
  /** When the start and the stop were asked for (trigger, duration over), since the run started, ms. */
  requestedStartElapsedMs?: number;
  requestedEndElapsedMs?: number;
  /** Still active when the run ended (it was undone at the end). */
  activeAtEnd: boolean;
  /** Offered load when the fault started, req/s. */
  offeredRate: number;
  /** Overall, and per request name. */
  metrics: Phases;
  byName: Record<string, Phases>;
  /** The hypothesis held throughout the fault: no sustained breach attributed to it or still going while it was active. */
  held: boolean;
  /** Breaches attributed to this fault (indices into the result's `breaches`). */
  breaches: number[];
  /** Sustained breaches that began before the fault (not blamed on it) and were still going while it was active. */
  preexisting: number[];
  /** The worst breach attributed to the fault: what it did to the hypothesis. */
  impact?: FaultImpact;
  timeToImpactMs?: number;
  /** not-needed: nothing breached; recovered; not-recovered: no healthy run before the run ended. */
  recovery: 'not-needed' | 'recovered' | 'not-recovered';
  timeToRecoveryMs?: number;
  blastRadius: {
    affected: string[];
    unaffected: string[];
    /** Too few samples for that name to judge, or no hypothesis to judge by. */
    unknown: string[];
    byName: Record<string, NameImpact>;
  };
  /** Restart faults: measured restart-to-ready per replica, and the outage from signal to ready, ms. */
  restart?: { restartToReadyMs?: (number | null)[]; downMs?: (number | null)[] };
  /** The fault-stop event's detail, as the fault kind reported it. */
  detail?: Record<string, unknown>;
  /** What the fault measured of its own effect, beside its setting; `noEffect` when it measured nothing. */
  effect?: { summary: string; values: Record<string, number>; noEffect: boolean };
  /** Window length, ms: the resolution of the times above. */
  resolutionMs: number;
}

export interface CorrelateOptions {
  sustain: number;
  minSamples: number;
  /** For load levels of per-name breaches; optional. */
  plans?: readonly Pick<StagePlan, 'model' | 'rateFrom' | 'rateTo'>[];
}

/** The window verdict fields correlation needs (a saved result's verdicts have them too). */
export type VerdictLike = Pick<WindowVerdict, 'status'> & { clauses: { status: string; value: number; samples: number }[] };

const overlap = (w: Window, a: number, b: number) => Math.max(0, Math.min(w.end, b) - Math.max(w.start, a));

/** Merges the stats `pick` chooses from each window; null when no window has any. */
export function snapshot(ws: readonly Window[], pick: (w: Window) => Stats | undefined, withOffered: boolean): Snapshot | null {
  if (ws.length === 0) return null;
  const stats = ws.map(pick).filter((s): s is Stats => s !== undefined);
  const secs = ws.reduce((a, w) => a + (w.end - w.start), 0) / 1000;
  const m = stats.length ? mergeStats(stats) : undefined;
  const h = m ? view(m.latency) : undefined;
  const requests = m?.requests ?? 0;
  return {
    windows: ws.length,
    requests,
    p50: h ? percentileMs(h, 50) : 0,
    p99: h ? percentileMs(h, 99) : 0,
    errorRate: requests > 0 ? m!.errors / requests : 0,
    achievedRate: secs > 0 ? requests / secs : 0,
    ...(withOffered ? { offeredRate: secs > 0 ? ws.reduce((a, w) => a + w.offered, 0) / secs : 0 } : {}),
  };
}

/** The windows before, during and after a fault. Before and after span the fault's length (at least `sustain` windows). */
export function phaseWindows(t: Timeline, f: FaultInterval, sustain: number): { before: Window[]; during: Window[]; after: Window[] } {
  const W = t.windows;
  const span = Math.max(f.end - f.start, sustain * t.tickMs);
  let during = W.filter((w) => overlap(w, f.start, f.end) >= (w.end - w.start) / 2);
  if (!during.length) {
    // A fault shorter than half a window: the window it overlapped most.
    const best = W.reduce<Window | undefined>((b, w) => (overlap(w, f.start, f.end) > (b ? overlap(b, f.start, f.end) : 0) ? w : b), undefined);
    during = best ? [best] : [];
  }
  const first = during[0]?.index ?? Infinity;
  const last = during[during.length - 1]?.index ?? -Infinity;
  const before = W.filter((w) => w.index < first && w.end <= f.start + 1 && w.start >= f.start - span - 1);
  const after = W.filter((w) => w.index > last && w.start >= f.end - 1 && w.end <= f.end + span + 1);
  return { before, during, after };
}

/** Clauses judged for one request name: unscoped latency/error clauses applied to it, and clauses scoped to it. */
export function clausesForName(clauses: readonly Clause[], name: string): Clause[] {
  return clauses
    .filter((c) => (c.scope === undefined && c.metric.type !== 'achieved') || c.scope === name)
    .map((c) => (c.scope === name ? c : { ...c, scope: name, text: `${name}.${c.text}` }));
}

/**
 * First window index j ≥ from where `sustain` consecutive windows pass; -1 when none.
 * Excluded and inconclusive windows break a healthy run: they show nothing healthy.
 * A healthy run cut short by a breach of another cause (load, another fault)
 * beginning counts too: the fault's own effect had ended before it.
 */
function healthyRunFrom(verdicts: readonly VerdictLike[], from: number, sustain: number, otherBreachStarts: ReadonlySet<number>): number {
  let run = 0;
  for (let j = from; j < verdicts.length; j++) {
    if (verdicts[j].status === 'pass') {
      run++;
      if (run >= sustain) return j - sustain + 1;
      continue;
    }
    if (run > 0 && otherBreachStarts.has(j)) return j - run;
    run = 0;
  }
  return -1;
}

/** Correlates every fault of the Timeline with the hypothesis. `breaches` are the attributed breaches of the run (findBreaches). */
export function correlate(
  t: Timeline,
  verdicts: readonly VerdictLike[],
  clauses: readonly Clause[],
  breaches: readonly Breach[],
  opts: CorrelateOptions,
): FaultCorrelation[] {
  const runStart = t.events.find((e) => e.type === 'run-start')?.t ?? t.windows[0]?.start ?? 0;
  const runEnd = [...t.events].reverse().find((e) => e.type === 'run-end')?.t ?? t.windows[t.windows.length - 1]?.end ?? runStart;
  const intervals = faultIntervals(t, runEnd);
  if (!intervals.length) return [];
  const sustain = Math.max(1, opts.sustain);
  const W = t.windows;
  const names = [...new Set(W.flatMap((w) => Object.keys(w.byName)))].sort();
  const plans = (opts.plans ?? []) as StagePlan[];

  // Per-name breaches, attributed by the same rules as the run's own (findBreaches).
  const perName = new Map<string, Breach[]>();
  const nameWindowsJudged = new Map<string, boolean[]>();
  for (const n of names) {
    const cs = clausesForName(clauses, n);
    if (!cs.length) continue;
    const vs = W.map((w, i) => evaluateWindow(w, cs, opts.minSamples, verdicts[i]?.status === 'excluded'));
    perName.set(n, findBreaches(t, vs, cs, sustain, plans, runEnd));
    nameWindowsJudged.set(n, vs.map((v) => v.status === 'pass' || v.status === 'fail'));
  }

  const starts = t.events.filter((e) => e.type === 'fault-start');
  const stops = t.events.filter((e) => e.type === 'fault-stop');
  return intervals.map((f, k) => {
    const startEv = starts[k];
    const stopEv = stops.find((e) => e.fault === f.fault && e.t >= f.start);
    const { before, during, after } = phaseWindows(t, f, sustain);
    const metrics: Phases = {
      before: snapshot(before, (w) => w.overall, true),
      during: snapshot(during, (w) => w.overall, true),
      after: snapshot(after, (w) => w.overall, true),
    };
    const byName: Record<string, Phases> = {};
    for (const n of names) {
      const pick = (w: Window) => w.byName[n];
      byName[n] = { before: snapshot(before, pick, false), during: snapshot(during, pick, false), after: snapshot(after, pick, false) };
    }

    const mine = breaches.map((b, i) => ({ b, i })).filter((x) => x.b.faults.includes(f.fault));
    const preexisting = breaches.map((b, i) => ({ b, i })).filter((x) => x.b.sustained && !x.b.faults.includes(f.fault) && x.b.start < f.start && x.b.end > f.start);
    const held = !mine.some((x) => x.b.sustained) && preexisting.length === 0;
    const firstHit = mine.reduce<Breach | undefined>((a, x) => (!a || x.b.startWindow < a.startWindow ? x.b : a), undefined);
    const timeToImpactMs = firstHit ? Math.max(0, firstHit.start - f.start) : undefined;

    // The worst breach: sustained before blips, then the one with the most windows.
    let impact: FaultImpact | undefined;
    const worst = [...mine].sort((a, b) => Number(b.b.sustained) - Number(a.b.sustained) || b.b.windows - a.b.windows)[0]?.b;
    if (worst) {
      const c = clauses.find((x) => x.text === worst.clause);
      const mb = before.length ? combineWindows(before) : undefined;
      const m = c && mb ? measure(c, mb) : undefined;
      impact = { clause: worst.clause, worst: worst.worstValue, sustained: worst.sustained, ...(m && m.samples > 0 ? { before: m.value } : {}) };
    }

    let recovery: FaultCorrelation['recovery'] = 'not-needed';
    let timeToRecoveryMs: number | undefined;
    if (mine.length) {
      // From the window in which the fault ended (or the first after it).
      const from = W.findIndex((w) => w.end > f.end);
      const others = new Set(breaches.filter((b) => !b.faults.includes(f.fault)).map((b) => b.startWindow));
      const j = from < 0 ? -1 : healthyRunFrom(verdicts, from, sustain, others);
      if (j >= 0) {
        recovery = 'recovered';
        timeToRecoveryMs = Math.max(0, W[j].start - f.end);
      } else recovery = 'not-recovered';
    }

    const radius: FaultCorrelation['blastRadius'] = { affected: [], unaffected: [], unknown: [], byName: {} };
    for (const n of names) {
      const nb = perName.get(n);
      if (!nb) {
        radius.unknown.push(n);
        radius.byName[n] = { status: 'inconclusive', clauses: [] };
        continue;
      }
      const hits = nb.filter((b) => b.faults.includes(f.fault));
      const judged = nameWindowsJudged.get(n)!;
      const anyJudged = during.some((w) => judged[w.index]);
      let status: NameImpact['status'];
      if (hits.some((b) => b.sustained)) status = 'breached';
      else if (hits.length) status = 'blip';
      else status = anyJudged ? 'held' : 'inconclusive';
      radius.byName[n] = { status, clauses: [...new Set(hits.filter((b) => status !== 'breached' || b.sustained).map((b) => b.clause))] };
      (status === 'breached' ? radius.affected : status === 'inconclusive' ? radius.unknown : radius.unaffected).push(n);
    }

    const detail = stopEv?.type === 'fault-stop' ? stopEv.detail : undefined;
    let restart: FaultCorrelation['restart'];
    if (detail && (Array.isArray(detail.restartToReadyMs) || Array.isArray(detail.downMs))) {
      restart = {};
      if (Array.isArray(detail.restartToReadyMs)) restart.restartToReadyMs = (detail.restartToReadyMs as unknown[]).map((v) => (typeof v === 'number' ? v : null));
      if (Array.isArray(detail.downMs)) restart.downMs = (detail.downMs as unknown[]).map((v) => (typeof v === 'number' ? v : null));
    }

    const out: FaultCorrelation = {
      fault: f.fault,
      kind: f.kind,
      target: startEv?.type === 'fault-start' ? startEv.target : undefined,
      start: f.start,
      end: f.end,
      startElapsedMs: f.start - runStart,
      endElapsedMs: f.end - runStart,
      activeAtEnd: !stopEv,
      offeredRate: startEv?.type === 'fault-start' ? startEv.offeredRate : 0,
      metrics,
      byName,
      held,
      breaches: mine.map((x) => x.i),
      preexisting: preexisting.map((x) => x.i),
      recovery,
      blastRadius: radius,
      resolutionMs: t.tickMs,
    };
    if (startEv?.type === 'fault-start' && startEv.requestedAt !== undefined) out.requestedStartElapsedMs = startEv.requestedAt - runStart;
    if (stopEv?.type === 'fault-stop' && stopEv.requestedAt !== undefined) out.requestedEndElapsedMs = stopEv.requestedAt - runStart;
    if (impact) out.impact = impact;
    if (timeToImpactMs !== undefined) out.timeToImpactMs = timeToImpactMs;
    if (timeToRecoveryMs !== undefined) out.timeToRecoveryMs = timeToRecoveryMs;
    if (restart) out.restart = restart;
    if (detail) out.detail = detail;
    if (stopEv?.type === 'fault-stop' && stopEv.effect) out.effect = stopEv.effect;
    return out;
  });
}

/** Stage plans as far as a saved result tells them (enough for load levels). */
export function plansOf(stages: readonly Pick<StageResult, 'model' | 'offeredRate' | 'rateFrom' | 'rateTo'>[]): Pick<StagePlan, 'model' | 'rateFrom' | 'rateTo'>[] {
  return stages.map((s) => ({ model: s.model, rateFrom: s.rateFrom ?? s.offeredRate, rateTo: s.rateTo ?? s.offeredRate }));
}

