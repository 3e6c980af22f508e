/**
 * Analysis once: `analyze(timeline, plan)` turns a finished Timeline into
 * every judgement a report shows — window verdicts, breaches and their
 * attribution, the breaking point, each clause's verdict, fault correlation,
 * stage outcomes, capacity and generator health. The result stores it, typed;
 * terminal, JSON, HTML, JUnit, HDR log and `compare` only read it.
 *
 * Three outcomes everywhere (window, stage, probe, clause, run): pass, fail,
 * inconclusive. Nothing passes on zero samples.
 */
import type { StageResult, Timeline, Window } from '../timeline.ts';
import type { Clause } from '../hypothesis/parse.ts';
import { evaluateWindow, type ClauseResult, type WindowVerdict } from '../hypothesis/evaluate.ts';
import type { StagePlan } from '../profiles/types.ts';
import { findBreaches, findBreakingPoint, levelOf, type Breach, type BreakingPoint, type BreakingPointResult } from './breaches.ts';
import { correlate, type FaultCorrelation } from './correlation.ts';
import { fitUsl, type Capacity } from './capacity.ts';
import { amplification, type DependencyAmplification } from './amplification.ts';

export type Outcome = 'pass' | 'fail' | 'inconclusive';

/** The hypothesis as judged: its clauses parsed (typed), the judging parameters, every window's verdict. */
export interface HypothesisSection {
  clauses: Clause[];
  windowMs: number;
  sustain: number;
  minSamples: number;
  /** The level (req/s) up to which the hypothesis must hold; undefined: throughout. */
  required?: number;
  /** Every window's verdict, by window index; each clause's result in the order of `clauses`. */
  verdicts: StoredVerdict[];
}

/** A window verdict as stored (clause text is in `clauses`, not repeated per window). */
export interface StoredVerdict {
  window: number;
  status: WindowVerdict['status'];
  clauses: Omit<ClauseResult, 'clause'>[];
}

/** One clause's verdict for the whole run: the same for every report. */
export interface ClauseVerdict {
  clause: string;
  outcome: Outcome;
  /** outcome === 'fail' (kept for readers of version 1). */
  failed: boolean;
  /** One line: why this outcome. */
  reason: string;
  /** Where this clause broke and stayed broken with no fault active. */
  breakingPoint?: BreakingPoint;
  /** Highest load level at which it passed below any breaking point, req/s. */
  heldTo?: number;
  /** The generator ran out before this clause could be judged further. */
  generatorLimited?: { rate: number; reason: string };
  /** Faults (not declared mayBreak) under which this clause had a sustained breach. */
  brokenBy: string[];
  /** Faults declared mayBreak under which it broke: reported, not failing. */
  brokenByAllowed: string[];
  /** Windows in which it was judged pass / fail, and inconclusive (too few requests due). */
  windows: { pass: number; fail: number; inconclusive: number };
}

export interface StageOutcome {
  stage: number;
  outcome: Outcome;
  reason?: string;
}

/** Generator health over the run: whether the generator, not the system, was ever the limit. */
export interface GeneratorSummary {
  limitedWindows: number;
  worstLagMs: number;
  worstElu: number;
  firstLimited?: { window: number; stage: number; rate: number; reason: string };
}

export interface Analysis {
  hypothesis: HypothesisSection;
  clauses: ClauseVerdict[];
  breaches: Breach[];
  breakingPoint: BreakingPoint | null;
  generatorLimit: BreakingPointResult['generatorLimit'] | null;
  faults: FaultCorrelation[];
  stageOutcomes: StageOutcome[];
  capacity: Capacity;
  generator: GeneratorSummary;
  /**
   * Scale-out: the windows some agent did not send its share of, by agent
   * ("agent 2 (…): dead in windows 4–9 (6)"). They carry no verdict; a run
   * that did not break elsewhere is inconclusive. Absent when every share came.
   */
  agentGaps?: string;
  /** What each dependency behind a fault proxy saw, and its amplification around each fault. */
  dependencies?: DependencyAmplification[];
  /**
   * With repeating faults (a Chaos Monkey schedule): the breaking point with their
   * windows counted as ordinary load — the system's limit under that background
   * fault rate — beside the clean one, which leaves every fault's windows out.
   */
  underFaults?: { series: string[]; breakingPoint: BreakingPoint | null };
}

/** What analysis needs besides the Timeline: the plan of the run and how it is judged. */
export interface AnalysisPlan {
  clauses: readonly Clause[];
  windowMs: number;
  sustain: number;
  minSamples: number;
  /** The stages as planned (load levels, warm-ups), index = stage. */
  plans: readonly Pick<StagePlan, 'kind' | 'model' | 'rateFrom' | 'rateTo' | 'warmupMs'>[];
  /** The stages as measured (for capacity and stage starts). */
  stages: readonly StageResult[];
  runStart: number;
  runEnd: number;
  expectedPeak?: number;
  required?: number;
  /** Faults declared `mayBreak`: true, or the request names each may hurt. */
  mayBreak?: Readonly<Record<string, true | readonly string[]>>;
  /** Occurrences of repeating faults (`name #k`) → the repeating fault's name. */
  series?: Readonly<Record<string, string>>;
}

/** A window inside its stage's warm-up: excluded from verdicts. */
export function inWarmup(w: Window, plan: AnalysisPlan): boolean {
  const p = plan.plans[w.stage];
  const st = plan.stages[w.stage];
  return p !== undefined && st !== undefined && p.warmupMs > 0 && w.end <= st.start + p.warmupMs + 1;
}

/** "agent 2 (…): dead in windows 4–9 (6); agent 3 (…): stalled in window 6", or undefined when no window lacks an agent's share. */
export function agentGapText(ws: readonly Window[]): string | undefined {
  const by = new Map<string, number[]>();
  for (const w of ws)
    for (const p of w.agentProblems ?? []) {
      const k = `${p.agent}: ${p.problem}`;
      by.set(k, [...(by.get(k) ?? []), w.index]);
    }
  if (!by.size) return undefined;
  const span = (xs: number[]) => (xs.length === 1 ? `window ${xs[0]}` : `windows ${xs[0]}–${xs[xs.length - 1]} (${xs.length})`);
  return [...by].map(([k, xs]) => `${k} in ${span(xs)}`).join('; ');
}

export function analyze(timeline: Timeline, plan: AnalysisPlan): Analysis {
  const W = timeline.windows;
  const clauses = plan.clauses;
  const plans = plan.plans as StagePlan[];
  const verdicts = W.map((w) => evaluateWindow(w, clauses, plan.minSamples, inWarmup(w, plan)));
  const breaches = findBreaches(timeline, verdicts, clauses, plan.sustain, plans, plan.runEnd);
  const bp = findBreakingPoint(timeline, verdicts, clauses, plan.sustain, plans, plan.runStart, plan.runEnd, plan.expectedPeak);
  const faults = correlate(timeline, verdicts, clauses, breaches, { sustain: plan.sustain, minSamples: plan.minSamples, plans });
  // A fault may break the hypothesis when declared so; with a list of request names, only
  // while its blast radius stays within them (the naive shop's slow payment takes products down too).
  const allowed = (fault: string) => {
    const m = plan.mayBreak?.[fault];
    if (m === true) return true;
    if (!m) return false;
    const radius = faults.find((f) => f.fault === fault)?.blastRadius.affected ?? [];
    return radius.length > 0 && radius.every((n) => m.includes(n));
  };

  const clauseVerdicts = clauses.map((c, ci) => judgeClause(c, ci));
  function judgeClause(c: Clause, ci: number): ClauseVerdict {
    // This clause's verdicts alone, as if it were the whole hypothesis.
    const vs: WindowVerdict[] = verdicts.map((v) => {
      const cv = v.clauses[ci];
      return { window: v.window, status: v.status === 'excluded' ? 'excluded' : cv.status, clauses: [cv] };
    });
    const found = findBreakingPoint(timeline, vs, [c], plan.sustain, plans, plan.runStart, plan.runEnd, plan.expectedPeak);
    const b = found.breakingPoint;
    const counts = { pass: 0, fail: 0, inconclusive: 0 };
    let heldTo: number | undefined;
    let topInconclusive: number | undefined;
    W.forEach((w, i) => {
      const st = vs[i].status;
      if (st === 'excluded') return;
      counts[st]++;
      const level = levelOf(w, plans);
      if (st === 'pass' && !w.generator.limited && (!b || level < b.firstFailing.rate)) heldTo = Math.max(heldTo ?? 0, level);
      if (st === 'inconclusive' || w.generator.limited) topInconclusive = Math.max(topInconclusive ?? 0, level);
    });
    if (b?.lastPassing) heldTo = b.lastPassing.rate;
    const own = breaches.filter((x) => x.clause === c.text && x.sustained && x.attribution !== 'load');
    const brokenBy = [...new Set(own.flatMap((x) => x.faults).filter((f) => !allowed(f)))];
    const brokenByAllowed = [...new Set(own.flatMap((x) => x.faults).filter((f) => allowed(f)))];
    const required = plan.required;
    const out: ClauseVerdict = { clause: c.text, outcome: 'pass', failed: false, reason: '', brokenBy, brokenByAllowed, windows: counts };
    if (b) out.breakingPoint = b;
    if (heldTo !== undefined) out.heldTo = heldTo;
    if (found.generatorLimit) out.generatorLimited = { rate: found.generatorLimit.rate, reason: found.generatorLimit.reason };
    const fmt = (r: number) => `${Math.round(r).toLocaleString('en-US')} req/s`;
    const set = (o: Outcome, reason: string) => {
      out.outcome = o;
      out.failed = o === 'fail';
      out.reason = reason;
      return out;
    };
    if (b && (required === undefined || b.firstFailing.rate <= required)) return set('fail', `broke at ${fmt(b.firstFailing.rate)}${required !== undefined ? `, below the required ${fmt(required)}` : ''}`);
    if (brokenBy.length) return set('fail', `broke under ${brokenBy.map((f) => `"${f}"`).join(', ')} (not declared mayBreak)`);
    if (counts.pass + counts.fail === 0) return set('inconclusive', `never judged: no window had ${plan.minSamples} requests due`);
    if (found.generatorLimit && (required === undefined || found.generatorLimit.rate <= required))
      return set('inconclusive', `the generator ran out at ${fmt(found.generatorLimit.rate)}${required !== undefined ? `, below the required ${fmt(required)}` : ''}: the system was not judged above it`);
    if (required !== undefined && (heldTo ?? 0) + 1e-9 < required) {
      if (topInconclusive !== undefined && topInconclusive + 1e-9 >= required) return set('inconclusive', `held up to ${fmt(heldTo ?? 0)}; at the required ${fmt(required)} too few requests were due to judge`);
      return set('fail', heldTo === undefined ? `did not pass at any level (required ${fmt(required)})` : `shown to hold only up to ${fmt(heldTo)}, below the required ${fmt(required)}`);
    }
    const allowedNote = brokenByAllowed.length ? `; broke under ${brokenByAllowed.map((f) => `"${f}"`).join(', ')} (mayBreak)` : '';
    if (b) return set('pass', `held up to the required ${fmt(required!)}; broke at ${fmt(b.firstFailing.rate)}${allowedNote}`);
    return set('pass', `${heldTo !== undefined ? `held up to ${fmt(heldTo)}` : 'held'}${required !== undefined ? ` (required ${fmt(required)})` : ''}${allowedNote}`);
  }

  // Stages: fail when a sustained breach began in it (or a short probe failed), inconclusive when nothing in it was judged or the generator was the limit.
  const stageOutcomes: StageOutcome[] = plan.stages.map((st) => {
    const idx = W.map((w, i) => i).filter((i) => W[i].stage === st.index && verdicts[i].status !== 'excluded');
    if (clauses.length === 0) return { stage: st.index, outcome: 'pass' };
    const judged = idx.filter((i) => verdicts[i].status === 'pass' || verdicts[i].status === 'fail');
    const probe = plans[st.index]?.kind === 'probe';
    const broke = breaches.some((b) => b.stage === st.index && (b.sustained || (probe && idx.length < plan.sustain)));
    if (broke) return { stage: st.index, outcome: 'fail' };
    if (judged.length === 0) return { stage: st.index, outcome: 'inconclusive', reason: 'too few requests due to judge' };
    if (idx.some((i) => W[i].generator.limited)) return { stage: st.index, outcome: 'inconclusive', reason: 'the generator was the limit' };
    return { stage: st.index, outcome: 'pass' };
  });

  const generator: GeneratorSummary = { limitedWindows: 0, worstLagMs: 0, worstElu: 0 };
  W.forEach((w) => {
    generator.worstLagMs = Math.max(generator.worstLagMs, w.generator.maxLagMs);
    generator.worstElu = Math.max(generator.worstElu, w.generator.elu);
    if (w.generator.limited) {
      generator.limitedWindows++;
      generator.firstLimited ??= { window: w.index, stage: w.stage, rate: levelOf(w, plans), reason: w.generator.reason ?? 'generator limited' };
    }
  });

  // Capacity: the highest level that held is the breaking point's last passing level (or, with
  // none, the highest level judged and passed): the same number the verdict names.
  let judgedTo: number | undefined;
  W.forEach((w, i) => {
    if (verdicts[i].status === 'pass' && !w.generator.limited) judgedTo = Math.max(judgedTo ?? 0, levelOf(w, plans));
  });
  const highestHeld = bp.breakingPoint?.lastPassing?.rate ?? (bp.breakingPoint ? undefined : (bp.generatorLimit?.heldTo ?? judgedTo));
  const capacity = computeCapacity(plan.stages, highestHeld, plan.expectedPeak);

  // Under a background fault rate: the same search with the repeating faults' windows counted as load.
  let underFaults: Analysis['underFaults'];
  const series = plan.series ?? {};
  // Only when some occurrence ran: a run aborted before them has no background to speak of.
  if (timeline.events.some((e) => e.type === 'fault-start' && Object.hasOwn(series, e.fault))) {
    const background = (e: Timeline['events'][number]) => (e.type === 'fault-start' || e.type === 'fault-stop') && Object.hasOwn(series, e.fault);
    const withLoad = findBreakingPoint({ ...timeline, events: timeline.events.filter((e) => !background(e)) }, verdicts, clauses, plan.sustain, plans, plan.runStart, plan.runEnd, plan.expectedPeak);
    underFaults = { series: [...new Set(Object.values(series))], breakingPoint: withLoad.breakingPoint ?? null };
  }
  const dependencies = amplification(timeline);

  return {
    hypothesis: {
      clauses: [...clauses],
      windowMs: plan.windowMs,
      sustain: plan.sustain,
      minSamples: plan.minSamples,
      required: plan.required,
      verdicts: verdicts.map((v) => ({ window: v.window, status: v.status, clauses: v.clauses.map(({ clause: _c, ...rest }) => rest) })),
    },
    clauses: clauseVerdicts,
    breaches,
    breakingPoint: bp.breakingPoint ?? null,
    generatorLimit: bp.generatorLimit ?? null,
    faults,
    stageOutcomes,
    capacity,
    generator,
    ...(agentGapText(W) ? { agentGaps: agentGapText(W) } : {}),
    ...(dependencies.length ? { dependencies } : {}),
    ...(underFaults ? { underFaults } : {}),
  };
}

function computeCapacity(stages: readonly StageResult[], highestHeld: number | undefined, expectedPeak?: number): Capacity {
  const cap: Capacity = { highestHeld, expectedPeak, headroom: highestHeld !== undefined && expectedPeak ? highestHeld / expectedPeak : undefined };
  const pts = stages.filter((s) => s.model === 'open' && !s.generatorLimited).map((s) => ({ offered: s.offeredRate, achieved: s.achievedRate }));
  const fit = fitUsl(pts);
  if (typeof fit === 'string') cap.uslNote = fit;
  else {
    cap.usl = fit;
    cap.uslNote = fit.note;
  }
  return cap;
}
