/**
 * Load profiles decide *when* and *how much*: they produce stages and never
 * touch sockets. An adaptive profile (search) receives each stage's verdict
 * before it names the next stage.
 */

import type { z } from 'zod';
import type { RateSpec } from '../config/units.ts';

/** Resolves a written rate ("3x", "1500") to req/s; `path` names it in errors. */
export type RateResolver = (r: RateSpec, path: string) => number;

/** One stage as the coordinator runs it; rates are totals across workers. */
export interface StagePlan {
  label: string;
  kind: 'baseline' | 'load' | 'probe';
  model: 'open' | 'closed';
  /** Arrival rate at the stage's start and end, req/s (equal for a constant stage). */
  rateFrom: number;
  rateTo: number;
  /** Closed model: fixed number of concurrent requests. */
  concurrency: number;
  durationMs: number;
  /** Leading part of the stage excluded from its verdict. */
  warmupMs: number;
  /** Adaptive profiles: rest with no load after this stage, so queues it built drain before the next probe. */
  cooldownMs?: number;
}

/** What the coordinator learned from a stage, handed back to adaptive profiles. */
export interface StageVerdict {
  plan: StagePlan;
  /** Every clause passed in every counted window (no breach lasting `sustain`). */
  held: boolean;
  /** Too few requests due to judge. */
  inconclusive: boolean;
  /** The clauses that could not be judged, with the requests they had (baseline). */
  openClauses?: { clause: string; samples: number }[];
  generatorLimited: boolean;
  achievedRate: number;
}

export interface Profile {
  readonly name: string;
  readonly adaptive: boolean;
  /** Adaptive profiles: the longest they may run, ms (plans faults that repeat until the run ends). */
  readonly budgetMs?: number;
  /** The next stage, given the previous stage's verdict; undefined when the profile is done. */
  next(prev?: StageVerdict): StagePlan | undefined;
  /** Adaptive profiles: their own account for the result (the search's probes and why it ended). */
  report?(): unknown;
}

/** A `load` key that has a CLI flag (see commands/flags.ts). */
export type LoadFlag = 'rate' | 'duration' | 'from' | 'to' | 'steps' | 'increment' | 'stepDuration' | 'concurrency' | 'precision';

/**
 * One load profile, as the registry (profiles/index.ts) lists it: its name, the
 * `load` object users write for it (`profile: <name>` included, strict, in the
 * user's units), and a factory. The scenario schema, `normalize`, the CLI's
 * `--profile` choices and the README's list are derived from the table.
 */
export interface ProfileType<S extends z.ZodType<{ profile: string }> = z.ZodType<{ profile: string }>> {
  readonly name: string;
  readonly schema: S;
  create(config: z.output<S>, rate: RateResolver): Profile;
  /** Problems between keys, with rates resolved (`path: message` lines); none when it is consistent. */
  check?(config: z.output<S>, rate: (r: RateSpec) => number): string[];
  /** Load keys the CLI sets for this profile (`--rate`, `--from` …). */
  readonly flags: readonly LoadFlag[];
  /** Flags that pick this profile when `--profile` is not given. */
  readonly impliedBy?: readonly LoadFlag[];
  /** One line for `--help` and the README. */
  readonly describe: string;
}

export const openStage = (label: string, rateFrom: number, rateTo: number, durationMs: number, kind: StagePlan['kind'] = 'load', warmupMs = 0): StagePlan => ({
  label,
  kind,
  model: 'open',
  rateFrom,
  rateTo,
  concurrency: 0,
  durationMs,
  warmupMs,
});

/** A fixed list of stages, for every non-adaptive profile. */
export function fixedProfile(name: string, stages: StagePlan[]): Profile {
  let i = 0;
  return {
    name,
    adaptive: false,
    next: () => stages[i++],
  };
}

export const fmtRate = (r: number) => (r >= 100 ? Math.round(r).toString() : r >= 10 ? r.toFixed(1) : r.toFixed(2)).replace(/\.0+$/, '');
