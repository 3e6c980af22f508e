/**
 * Load profiles decide *when* and *how much*: they produce stages and never
 * touch sockets. An adaptive profile (search) receives each stage's verdict
 * before it names the next stage.
 */

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
  /** The next stage, given the previous stage's verdict; undefined when the profile is done. */
  next(prev?: StageVerdict): StagePlan | undefined;
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
