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
