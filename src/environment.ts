/**
 * The system around a run: managed services, fault proxies and the fault
 * injector, started before the load and torn down after it on every exit path.
 */
import type { Scenario } from './config/scenario.ts';
import type { TimelineEvent } from './result.ts';

export interface InjectorLike {
  tick(state: { now: number; elapsedMs: number; offeredRate: number; stage: number }): Promise<void>;
  active(): string[];
}

export interface Environment {
  injector: InjectorLike;
  /** Undoes every fault, stops proxies and services. Never throws. */
  close(): Promise<{ failed: { fault: string; error: string }[] }>;
}

export interface EnvironmentOptions {
  emit: (e: TimelineEvent) => void;
  now: () => number;
  stateDir: string;
  runStart: number;
}

export async function startEnvironment(_scenario: Scenario, _opts: EnvironmentOptions): Promise<Environment> {
  return {
    injector: { tick: async () => {}, active: () => [] },
    close: async () => ({ failed: [] }),
  };
}
