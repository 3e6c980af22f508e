/**
 * Repeating faults, Chaos Monkey style: `every: 30s` (periodic) or
 * `random: { mean: 20s }` (Poisson arrivals), each occurrence on one target
 * chosen from `targets` (`pick: random` or `round-robin`), at most
 * `maxConcurrent` occurrences active at once.
 *
 * The schedule is planned once, before the run, from the run's seed: the same
 * seed gives the same times and targets, and `faultline validate` can show them.
 * Each occurrence becomes an ordinary fault (`name #k`, an `at` trigger), so the
 * Injector, the journal and the reports treat it like any other; `series` ties
 * the occurrences back to the fault the user wrote.
 *
 * Why planned and not drawn live: a live draw would depend on tick timing, and
 * an experiment that cannot be replayed exactly proves less.
 */

import { seededRandom, streamSeed } from '../random.ts';

/** The repeat keys of a fault, normalised (ms). */
export interface RepeatSpec {
  /** Periodic: one occurrence every this many ms. */
  everyMs?: number;
  /** Poisson: exponential inter-arrival times with this mean, ms. */
  meanMs?: number;
  /** Targets to choose from, one per occurrence (default: the fault's own target). */
  targets?: string[];
  pick: 'random' | 'round-robin';
  /** Occurrences of this fault active at once; a later one that would exceed it is skipped (default 1). */
  maxConcurrent: number;
  /** Last time an occurrence may start, ms on the run's clock (default: the planned end). */
  untilMs?: number;
}

/** One planned occurrence. */
export interface Occurrence {
  /** 1-based index among the occurrences that run. */
  index: number;
  /** Start, ms on the same clock as the fault's `at`. */
  atMs: number;
  target?: string;
}

export interface PlannedSchedule {
  occurrences: Occurrence[];
  /** Occurrences drawn but skipped because maxConcurrent were active. */
  skipped: { atMs: number; target?: string }[];
  /** The planning stopped at the occurrence cap before the horizon. */
  capped: boolean;
}

/** The most occurrences one repeating fault may plan (a 1 s period over a day is far beyond a load test). */
export const MAX_OCCURRENCES = 10_000;

/**
 * Plans the occurrences of one repeating fault from `startMs` (its `at`, or 0)
 * up to `horizonMs` (exclusive), each lasting `durationMs` (undefined: the
 * occurrence ends by itself, e.g. a kill; it never blocks the next one).
 */
export function planSchedule(r: RepeatSpec, o: { startMs: number; horizonMs: number; durationMs?: number; seed: number; name: string; target?: string }): PlannedSchedule {
  const random = seededRandom(streamSeed(o.seed, o.name));
  const end = Math.min(o.horizonMs, r.untilMs ?? Infinity);
  const targets = r.targets?.length ? r.targets : undefined;
  const out: PlannedSchedule = { occurrences: [], skipped: [], capped: false };
  const activeUntil: number[] = [];
  let drawn = 0;
  let t = o.startMs;
  // Poisson: the first arrival is itself exponential after the start (memoryless), not at the start.
  if (r.meanMs !== undefined) t += expDraw(random, r.meanMs);
  while (t < end) {
    if (drawn >= MAX_OCCURRENCES) {
      out.capped = true;
      break;
    }
    const target = targets ? (r.pick === 'round-robin' ? targets[drawn % targets.length] : targets[Math.floor(random() * targets.length)]) : o.target;
    drawn++;
    for (let i = activeUntil.length - 1; i >= 0; i--) if (activeUntil[i]! <= t) activeUntil.splice(i, 1);
    if (o.durationMs !== undefined && activeUntil.length >= r.maxConcurrent) {
      out.skipped.push({ atMs: t, target });
    } else {
      out.occurrences.push({ index: out.occurrences.length + 1, atMs: t, target });
      if (o.durationMs !== undefined) activeUntil.push(t + o.durationMs);
    }
    t += r.everyMs !== undefined ? r.everyMs : expDraw(random, r.meanMs!);
  }
  return out;
}

/** An exponential draw with this mean (inverse transform; 1 − u keeps log() away from 0). */
function expDraw(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** A repeating fault as planned, for `validate` and the result. */
export interface FaultSchedule {
  /** The name the user gave the fault; its occurrences are `name #1`, `name #2` … */
  name: string;
  kind: string;
  occurrences: Occurrence[];
  skipped: { atMs: number; target?: string }[];
  capped: boolean;
  /** The end of the planning horizon, ms on the trigger clock. */
  horizonMs: number;
}

/** Minimal shapes, so this module needs nothing from the config. */
interface SpecLike {
  name: string;
  kind: string;
  target?: string;
  at?: number;
  duration?: number;
  series?: { name: string; index: number };
}
interface StageLike {
  durationMs: number;
  cooldownMs?: number;
}

/**
 * The planned length of the load, ms, on the clock faults' `at` uses (from the
 * start of the load, after the baseline). An adaptive profile has no fixed
 * length: its budget bounds it.
 */
export function plannedRunMs(makeProfile: () => { adaptive: boolean; next(): StageLike | undefined }, adaptiveBudgetMs: number | undefined): number {
  let ms = 0;
  const p = makeProfile();
  if (p.adaptive) return ms + (adaptiveBudgetMs ?? 0);
  for (let st = p.next(); st; st = p.next()) ms += st.durationMs + (st.cooldownMs ?? 0);
  return ms;
}

/** Replaces each repeating fault by its planned occurrences, in place of the original, keeping the others' order. */
export function expandRepeats<T extends SpecLike>(faults: T[], repeating: { index: number; repeat: RepeatSpec }[], o: { horizonMs: number; seed: number }): { faults: T[]; schedules: FaultSchedule[] } {
  const byIndex = new Map(repeating.map((r) => [r.index, r.repeat]));
  const out: T[] = [];
  const schedules: FaultSchedule[] = [];
  faults.forEach((f, i) => {
    const r = byIndex.get(i);
    if (!r) {
      out.push(f);
      return;
    }
    const plan = planSchedule(r, { startMs: f.at ?? 0, horizonMs: o.horizonMs, durationMs: f.duration, seed: o.seed, name: f.name, target: f.target });
    schedules.push({ name: f.name, kind: f.kind, ...plan, horizonMs: o.horizonMs });
    for (const occ of plan.occurrences) out.push({ ...f, name: `${f.name} #${occ.index}`, at: occ.atMs, target: occ.target, series: { name: f.name, index: occ.index } });
  });
  return { faults: out, schedules };
}
