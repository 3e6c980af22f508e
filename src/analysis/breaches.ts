/**
 * Breaches and the breaking point, computed from the Timeline alone.
 *
 * - A breach is a run of consecutive failing windows of one clause; it is
 *   sustained when it lasts at least `sustain` windows, a blip otherwise.
 * - Attribution by overlap: a window belongs to a fault active during it (or
 *   ended within one window before it). A run of failing windows is split where that changes; a short piece
 *   without a fault joins its fault neighbour; a fault's piece followed by a
 *   sustained piece without it is reported as two breaches (the fault's and
 *   the load's). A breach already sustained before a fault came stays the load's.
 * - The breaking point is the lowest load level at which a clause broke and
 *   stayed broken (a sustained breach) with no fault active or just ended (the
 *   `sustain` windows after a fault are its own) and the generator not the limit.
 *   Levels, not times, decide: a search probes up and down, and its breaking
 *   point is its lowest failing probe.
 */
import type { Timeline, Window } from '../timeline.ts';
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
  /** 'both' only in results written before version 2 (a breach spanning a fault's end is now split). */
  attribution: 'fault' | 'load' | 'both';
  faults: string[];
  /** A run of failing windows that spanned a fault boundary, split: this is piece `index` of `of`. */
  part?: { index: number; of: number };
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
  /** How precisely the break is located: firstFailing − lastPassing, req/s, and relative to lastPassing. */
  bracket?: { width: number; relative?: number };
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
  // The faults a window belongs to: active during it, or ended within one window before it.
  // (A one-window blip just ahead of a fault joins the fault's piece below.)
  const faultsOf = (w: Window) => faults.filter((f) => w.end > f.start && w.start <= f.end + tick).map((f) => f.fault);
  clauses.forEach((c, ci) => {
    const worse = c.op === '<' || c.op === '<=' ? Math.max : Math.min;
    const emit = (run: number[], attribution: Breach['attribution'], names: string[], ongoing: boolean, part?: Breach['part']) => {
      const ws = run.map((i) => t.windows[i]);
      const vals = run.map((i) => verdicts[i].clauses[ci].value);
      const first = ws[0];
      const last = ws[ws.length - 1];
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
        faults: names,
        ongoing,
        ...(part ? { part } : {}),
      });
    };
    /**
     * One run of consecutive failing windows, attributed by overlap: split where fault
     * membership changes, a short no-fault piece next to a fault's piece joins it (a blip
     * just ahead of a fault, a short tail), and a breach that was already sustained before
     * a fault came is the load's as a whole. A fault's piece followed by a sustained piece
     * without it is reported as two breaches: the fault's, then the load's.
     */
    const close = (run: number[], ongoing: boolean) => {
      if (run.length === 0) return;
      const segs: { idx: number[]; faults: string[] }[] = [];
      for (const i of run) {
        const names = faultsOf(t.windows[i]);
        const key = names.join('\0');
        const cur = segs[segs.length - 1];
        if (cur && cur.faults.join('\0') === key) cur.idx.push(i);
        else segs.push({ idx: [i], faults: names });
      }
      // Short no-fault pieces join a neighbouring fault piece.
      for (let k = 0; k < segs.length; k++) {
        const sg = segs[k];
        if (sg.faults.length || sg.idx.length >= sustain) continue;
        const nb = segs[k + 1]?.faults.length ? k + 1 : segs[k - 1]?.faults.length ? k - 1 : -1;
        if (nb < 0) continue;
        segs[nb].idx = nb > k ? [...sg.idx, ...segs[nb].idx] : [...segs[nb].idx, ...sg.idx];
        segs.splice(k, 1);
        k--;
      }
      // Adjacent fault pieces (overlapping faults) are one fault breach naming them all.
      const merged: { idx: number[]; faults: string[] }[] = [];
      for (const sg of segs) {
        const prev = merged[merged.length - 1];
        if (prev && prev.faults.length && sg.faults.length) {
          prev.idx.push(...sg.idx);
          prev.faults = [...new Set([...prev.faults, ...sg.faults])];
        } else merged.push({ idx: [...sg.idx], faults: [...sg.faults] });
      }
      if (merged[0].faults.length === 0 && (merged[0].idx.length >= sustain || merged.length === 1)) {
        emit(run, 'load', [], ongoing); // already broken when any fault came: the load's
        return;
      }
      if (merged.length === 1) {
        emit(run, 'fault', merged[0].faults, ongoing);
        return;
      }
      merged.forEach((sg, k) => emit(sg.idx, sg.faults.length ? 'fault' : 'load', sg.faults, ongoing && k === merged.length - 1, { index: k, of: merged.length }));
    };
    let run: number[] = [];
    verdicts.forEach((v, i) => {
      if (v.status !== 'excluded' && !t.windows[i].agentProblems?.length && v.clauses[ci]?.status === 'fail') run.push(i);
      else {
        close(run, false);
        run = [];
      }
    });
    close(run, true);
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
  const countable = (i: number) => verdicts[i] && verdicts[i].status !== 'excluded' && !W[i].agentProblems?.length && !faultTouched(W[i]);
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
      // Last passing level: the highest level below this one where the clause passed, at any
      // time (a search probes up and down: a pass at 403 after a failure at 413 counts).
      let lp: LevelPoint | undefined;
      for (let k = 0; k < W.length; k++) {
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
        bracket: lp ? { width: rate - lp.rate, relative: lp.rate > 0 ? (rate - lp.rate) / lp.rate : undefined } : undefined,
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
