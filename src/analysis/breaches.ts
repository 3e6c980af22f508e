/**
 * Breaches and the breaking point, computed from the Timeline alone.
 *
 * - A breach is a run of consecutive failing windows of one clause; it is
 *   sustained when it lasts at least `sustain` windows, a blip otherwise.
 * - Attribution: to a fault when the breach began while the fault was active
 *   (its first window overlaps the fault, or begins within one window after the
 *   fault's end); to both when it also outlasts the fault by `sustain` windows;
 *   otherwise to load. A breach whose first window ended before a fault began
 *   is never blamed on it.
 * - The breaking point is the lowest load level at which a clause broke and
 *   stayed broken (a sustained breach) with no fault active or just ended (the
 *   `sustain` windows after a fault are its own) and the generator not the limit.
 *   Levels, not times, decide: a search probes up and down, and its breaking
 *   point is its lowest failing probe.
 */
import type { Timeline, Window } from '../result.ts';
import type { WindowVerdict } from '../hypothesis/evaluate.ts';
import type { Clause } from '../hypothesis/parse.ts';
import type { StagePlan } from '../profiles/types.ts';

export interface FaultInterval {
  fault: string;
  kind: string;
  start: number;
  /** End of the fault (or the run's end if it was still active). */
  end: number;
}

export interface Breach {
  clause: string;
  scope?: string;
  threshold: number;
  sustained: boolean;
  startWindow: number;
  endWindow: number;
  start: number;
  end: number;
  windows: number;
  /** Value in the first failing window and the worst value over the breach. */
  firstValue: number;
  worstValue: number;
  /** Load level (req/s) when it began, and the stage. */
  offeredRate: number;
  stage: number;
  attribution: 'fault' | 'load' | 'both';
  faults: string[];
  /** Still failing in the run's last window. */
  ongoing: boolean;
}

export interface LevelPoint {
  rate: number;
  stage: number;
  window: number;
  value: number;
  elapsedMs: number;
}

export interface BreakingPoint {
  clause: string;
  threshold: number;
  /** Measured value in the first failing window. */
  value: number;
  firstFailing: LevelPoint;
  lastPassing?: LevelPoint;
  /** Interpolated load at which the metric crossed the threshold. */
  crossing: number;
  /** firstFailing.rate / expectedPeak, when a peak is known. */
  xPeak?: number;
  crossingXPeak?: number;
}

export interface BreakingPointResult {
  breakingPoint?: BreakingPoint;
  /** When the generator was the limit before the system broke: where, and how far the system held. */
  generatorLimit?: { rate: number; stage: number; heldTo?: number; reason: string };
}

export function faultIntervals(t: Timeline, runEnd: number): FaultInterval[] {
  const open = new Map<string, FaultInterval>();
  const out: FaultInterval[] = [];
  for (const e of t.events) {
    if (e.type === 'fault-start') {
      const f = { fault: e.fault, kind: e.kind, start: e.t, end: runEnd };
      open.set(e.fault, f);
      out.push(f);
    } else if (e.type === 'fault-stop') {
      const f = open.get(e.fault);
      if (f) {
        f.end = e.t;
        open.delete(e.fault);
      }
    }
  }
  return out;
}

/** Load level of a window: the planned rate for constant stages (exact), the window's offered rate for ramps. */
export function levelOf(w: Window, plans: readonly StagePlan[]): number {
  const p = plans[w.stage];
  if (p && p.model === 'open' && p.rateFrom === p.rateTo) return p.rateFrom;
  if (p && p.model === 'closed') return w.achievedRate;
  return w.offeredRate;
}

export function findBreaches(
  t: Timeline,
  verdicts: readonly WindowVerdict[],
  clauses: readonly Clause[],
  sustain: number,
  plans: readonly StagePlan[],
  runEnd: number,
): Breach[] {
  const faults = faultIntervals(t, runEnd);
  const tick = t.tickMs;
  const out: Breach[] = [];
  clauses.forEach((c, ci) => {
    let run: number[] = [];
    const close = (ongoing: boolean) => {
      if (run.length === 0) return;
      const ws = run.map((i) => t.windows[i]);
      const vals = run.map((i) => verdicts[i].clauses[ci].value);
      const first = ws[0];
      const last = ws[ws.length - 1];
      const worse = c.op === '<' || c.op === '<=' ? Math.max : Math.min;
      const active = faults.filter((f) => first.end > f.start && first.start <= f.end + tick);
      let attribution: Breach['attribution'] = 'load';
      if (active.length) {
        const outlasts = active.every((f) => last.end > f.end + sustain * tick) && run.length >= sustain;
        attribution = outlasts ? 'both' : 'fault';
      }
      out.push({
        clause: c.text,
        scope: c.scope,
        threshold: c.threshold,
        sustained: run.length >= sustain,
        startWindow: first.index,
        endWindow: last.index,
        start: first.start,
        end: last.end,
        windows: run.length,
        firstValue: vals[0],
        worstValue: worse(...vals),
        offeredRate: levelOf(first, plans),
        stage: first.stage,
        attribution,
        faults: active.map((f) => f.fault),
        ongoing,
      });
      run = [];
    };
    verdicts.forEach((v, i) => {
      if (v.status !== 'excluded' && v.clauses[ci]?.status === 'fail') run.push(i);
      else close(false);
    });
    close(true);
  });
  return out.sort((a, b) => a.start - b.start || a.clause.localeCompare(b.clause));
}

export function findBreakingPoint(
  t: Timeline,
  verdicts: readonly WindowVerdict[],
  clauses: readonly Clause[],
  sustain: number,
  plans: readonly StagePlan[],
  runStart: number,
  runEnd: number,
  expectedPeak?: number,
): BreakingPointResult {
  const faults = faultIntervals(t, runEnd);
  const tick = t.tickMs;
  const W = t.windows;
  const faultTouched = (w: Window) => faults.some((f) => w.end > f.start && w.start < f.end + sustain * tick);
  const countable = (i: number) => verdicts[i] && verdicts[i].status !== 'excluded' && !faultTouched(W[i]);
  let best: BreakingPoint | undefined;
  let genLimit: BreakingPointResult['generatorLimit'];
  // The first generator-limited window (not under a fault): nothing above it can be judged.
  const firstGen = W.findIndex((w, i) => w.generator.limited && countable(i));
  clauses.forEach((c, ci) => {
    for (let i = 0; i < W.length; i++) {
      if (!countable(i) || verdicts[i].clauses[ci].status !== 'fail') continue;
      // Sustained: this and the next sustain−1 countable windows all fail.
      let n = 0;
      let j = i;
      for (; j < W.length && n < sustain; j++) {
        if (!countable(j)) break;
        if (verdicts[j].clauses[ci].status !== 'fail') break;
        n++;
      }
      if (n < sustain) continue;
      if (firstGen >= 0 && firstGen <= i) break; // the generator ran out first
      const w = W[i];
      const rate = levelOf(w, plans);
      const value = verdicts[i].clauses[ci].value;
      // Last passing level: the highest level below this one where the clause passed.
      let lp: LevelPoint | undefined;
      for (let k = 0; k < i; k++) {
        if (!countable(k) || verdicts[k].clauses[ci].status !== 'pass') continue;
        const r = levelOf(W[k], plans);
        if (r < rate && (!lp || r >= lp.rate)) lp = { rate: r, stage: W[k].stage, window: k, value: verdicts[k].clauses[ci].value, elapsedMs: W[k].start - runStart };
      }
      let crossing = rate;
      if (lp && value !== lp.value) {
        const f = (c.threshold - lp.value) / (value - lp.value);
        crossing = lp.rate + Math.min(1, Math.max(0, f)) * (rate - lp.rate);
      }
      const bp: BreakingPoint = {
        clause: c.text,
        threshold: c.threshold,
        value,
        firstFailing: { rate, stage: w.stage, window: i, value, elapsedMs: w.start - runStart },
        lastPassing: lp,
        crossing,
        xPeak: expectedPeak ? rate / expectedPeak : undefined,
        crossingXPeak: expectedPeak ? crossing / expectedPeak : undefined,
      };
      // The lowest level wins (a search probes up and down; steps only go up, where the lowest is also the first).
      if (!best || bp.firstFailing.rate < best.firstFailing.rate || (bp.firstFailing.rate === best.firstFailing.rate && bp.firstFailing.window < best.firstFailing.window)) best = bp;
      i = j - 1; // past this breach
    }
  });
  if (firstGen >= 0 && (!best || firstGen <= best.firstFailing.window)) {
    const g = W[firstGen];
    let heldTo: number | undefined;
    for (let k = 0; k < firstGen; k++) if (countable(k) && verdicts[k].status === 'pass') heldTo = Math.max(heldTo ?? 0, levelOf(W[k], plans));
    genLimit = { rate: levelOf(g, plans), stage: g.stage, heldTo, reason: g.generator.reason ?? 'generator limited' };
    best = undefined;
  }
  return { breakingPoint: best, generatorLimit: genLimit };
}
