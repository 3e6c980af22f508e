/**
 * Probes: what a run asks outside its own load, once per window — a health
 * endpoint, an alarm system through a command's exit status — so hypothesis
 * clauses and stop conditions can use them (`probe health`, `probe alarm fails`),
 * as AWS FIS stop conditions and Chaos Toolkit's steady-state probes do.
 * One module per probe kind behind this small interface; one table in index.ts.
 */
import type { z } from 'zod';

/** One poll's answer. */
export interface ProbeResult {
  /** When the poll finished, absolute ms. */
  t: number;
  ok: boolean;
  /** How long the poll took, ms. */
  latencyMs: number;
  /** What it read (HTTP status, JSON field, exit code), for the report. */
  value?: string | number | boolean | null;
  /** Why it failed, in words. */
  message?: string;
}

export interface Probe {
  readonly name: string;
  /** One poll, bounded by its timeout; never rejects (a failure is a result). */
  poll(): Promise<Omit<ProbeResult, 't'>>;
}

export interface ProbeKind<P = Record<string, unknown>> {
  readonly name: string;
  /** The kind's own keys (common keys: kind, every, timeout). */
  params: z.ZodType<P>;
  describe: string;
  create(name: string, params: P, o: { timeoutMs: number; cwd: string }): Probe;
}

/** A probe as the scenario resolves it. */
export interface ProbeSpec {
  name: string;
  kind: string;
  /** Poll period, ms (default: the window). */
  everyMs: number;
  /** Each poll's bound, ms. */
  timeoutMs: number;
  params: Record<string, unknown>;
}
