/**
 * The result of a run: the Timeline (the single source of truth) plus the
 * summaries computed from it. A result JSON holds all of this, histograms
 * encoded, so `report`, `compare` and `merge` work from files alone.
 * Times are absolute epoch milliseconds; latencies in summaries are ms;
 * encoded histograms hold microseconds.
 */

import type { Breach, BreakingPoint, BreakingPointResult } from './analysis/breaches.ts';
import type { Capacity } from './analysis/capacity.ts';
import type { FaultCorrelation } from './analysis/correlation.ts';
import type { AgentSummary, StageResult, Timeline } from './timeline.ts';
import type { Analysis, ClauseVerdict, GeneratorSummary, HypothesisSection, StageOutcome } from './analysis/analyze.ts';

/** 2: the analysis is stored whole (typed clauses, clause and stage outcomes, inconclusive); `report` upgrades version 1 on load. */
export const RESULT_VERSION = 2;

export interface RunMeta {
  faultline: string;
  node: string;
  platform: string;
  cores: number;
  workers: number;
  connections: number;
  pipelining: number;
  /** Opt-in retries of idempotent requests failed at the connection (absent: 0, nothing was sent twice). */
  retries?: number;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  scenario?: string;
  scenarioFile?: string;
  target: string;
  expectedPeak?: number;
  model: 'open' | 'closed';
  timeoutMs: number;
  command?: string;
  /** Scale-out: agents that shared the load (absent for one process). */
  agents?: number;
}


/** The whole result, as written to --json. Analysis sections are filled in by later stages of the run. */
export interface Result {
  version: number;
  meta: RunMeta;
  stages: StageResult[];
  timeline: Timeline;
  /** Exit code the run ended with, and why. */
  outcome: { exitCode: number; status: 'held' | 'broke' | 'inconclusive' | 'aborted' | 'error'; reason: string };
  /** The hypothesis as judged: typed clauses, judging parameters, every window's verdict. */
  hypothesis?: HypothesisSection;
  /** Each clause's verdict for the run (pass, fail, inconclusive), as every report shows it. */
  clauses?: ClauseVerdict[];
  /** Each stage's outcome, by stage index. */
  stageOutcomes?: StageOutcome[];
  /** Generator health over the run. */
  generator?: GeneratorSummary;
  /** The lowest load at which the hypothesis broke and stayed broken, no fault active; null when it did not. */
  breakingPoint?: BreakingPoint | null;
  /** Where the generator, not the system, ran out first; null when it did not. */
  generatorLimit?: BreakingPointResult['generatorLimit'] | null;
  capacity?: Capacity;
  /** Every breach, attributed to load, a fault or both; blips have `sustained: false`. */
  breaches?: Breach[];
  /** One correlation per fault that took effect. */
  faults?: FaultCorrelation[];
  search?: unknown;
  /** Scale-out: one entry per agent; absent for one process. */
  agents?: AgentSummary[];
  /** What each dependency behind a fault proxy saw: amplification, overall and around each fault. */
  dependencies?: Analysis['dependencies'];
  /** With repeating faults: the breaking point under that background fault rate. */
  underFaults?: Analysis['underFaults'];
  [k: string]: unknown;
}
