/**
 * The one small interface every fault kind implements. Undo is part of the
 * interface: a fault that can start can stop, and the Injector (not the fault)
 * guarantees that stop() runs on every exit path.
 */
import type { z } from 'zod';
import type { JournalUndo } from './journalSchema.ts';
import type { ProxyRegistry } from '../proxy/types.ts';
import type { ServiceRegistry } from '../services/types.ts';
import type { HostRegistry } from '../hosts/types.ts';

/** What a fault may use while it runs. */
export interface FaultContext {
  /** Built-in proxies declared in the scenario's `proxies`, by name. */
  proxies: ProxyRegistry;
  /** Managed services declared in the scenario's `services`, by name. */
  services: ServiceRegistry;
  /** Facts of the run, passed to exec faults as environment variables (FAULTLINE_*). */
  facts: Record<string, string>;
  /** Seeded random source in [0, 1) (scenario `seed`), for reproducible choices. */
  random: () => number;
  /** Writes an intent record before a fault takes effect; `faultline recover` reads it. */
  journal: Journal;
  /** A line for the run's log (not the terminal). */
  log: (msg: string) => void;
  /** Services running as their own hosts (`host` key), when any do. */
  hosts?: HostRegistry;
}

/** Common part of every fault spec, already normalised (ms, req/s, fractions). */
export interface FaultSpecBase {
  name: string;
  kind: string;
  target?: string;
  /** Trigger: time from the run's start, ms. */
  at?: number;
  /** Trigger: when the offered rate first reaches this level, req/s (multiples of expectedPeak already resolved). */
  atLoad?: number;
  /** Trigger: when this stage (0-based index) starts. */
  atStage?: number;
  /** How long the fault stays active, ms. Undefined: until the run ends. */
  duration?: number;
  /** Probability 0..1 (toxicity): per connection for TCP faults, per request for HTTP faults. */
  probability?: number;
  /** Expected to break the hypothesis (true), or to hurt only these request names: such breaches are reported but do not fail the run. */
  mayBreak?: true | string[];
  /** Kind-specific parameters, as validated by the kind's schema. */
  params: Record<string, unknown>;
  /** One occurrence of a repeating fault (every, random): the name the user gave it, and which occurrence (1-based). */
  series?: { name: string; index: number };
}

/** A live fault instance. */
export interface Fault {
  readonly spec: FaultSpecBase;
  /**
   * Applies the fault. Must register whatever it needs to be undone before it takes effect.
   * Resolves when the effect is in place; a kind that sees the moment (a `ready` line or probe,
   * see readiness.ts) returns it as an absolute time, otherwise the moment start() returned counts.
   */
  start(): Promise<number | void>;
  /**
   * Undoes the fault. Must be idempotent and safe to call even if start() failed half-way.
   * Resolves when the undo has taken effect (optionally with that absolute time).
   */
  stop(): Promise<number | void>;
  /** Facts measured while the fault ran (e.g. restart-to-ready time), added to the fault-stop event. */
  detail?(): Record<string, unknown>;
  /**
   * The effect the fault measured itself (packets dropped, answers served, CPU
   * granted, responses patched), read once after stop(): reported beside the
   * setting in the fault-stop event and the fault table. A fault that could
   * measure nothing it did says `noEffect`, so an experiment that proved nothing says so.
   */
  measured?(): MeasuredEffect | undefined;
  /**
   * For faults whose effect ends by itself (a kill with `restart`): resolves when it
   * has. A fault with no `duration` is stopped by the Injector then, not at the run's end.
   */
  finished?(): Promise<void>;
  /**
   * For faults whose effect may end before their duration (a held command that exited):
   * resolves when it has; the Injector stops the fault then. Undefined: it cannot.
   */
  effectEnded?(): Promise<void> | undefined;
}

/** What a fault measured of its own effect. */
export interface MeasuredEffect {
  /** One line for the fault table, in the user's units: "dropped 1,032 of 5,120 packets (20.2%)". */
  summary: string;
  /** The counts behind it, by name. */
  values: Record<string, number>;
  /** Nothing measurable happened (0 packets dropped, no DNS query seen, no request matched). */
  noEffect: boolean;
}

/**
 * One fault kind: its name, its parameter schema (strict zod object of the
 * kind-specific keys, in the user's units) and a factory. One module each
 * (src/faults/kinds/), one line in the table in src/faults/index.ts.
 */
export interface FaultKind {
  /** What a scenario writes as `kind`. */
  readonly name: string;
  /** Kind-specific keys only; common keys (name, kind, target, at, atLoad, atStage, duration, probability) are handled by the config. */
  params: z.ZodType<Record<string, unknown>>;
  /** What `target` must name: a proxy, a service, either, or nothing. */
  targets: 'proxy' | 'service' | 'service-or-pid' | 'none' | 'any' | 'host';
  /** For `targets: 'proxy'`: the proxy mode it needs, checked when the scenario is validated. */
  proxyMode?: 'tcp' | 'http' | 'tls' | 'any';
  create(spec: FaultSpecBase, ctx: FaultContext): Fault;
  /** One line for `--help` and README. */
  describe: string;
}

/** Intent records: written before a fault takes effect, cleared after its undo. */
export interface JournalEntry {
  id: string;
  fault: string;
  kind: string;
  /** How to undo it without this process: a signal to a pid, a command, an HTTP call (journalSchema.ts). */
  undo: JournalUndo;
  at: number;
  /** Pid of the faultline process that wrote the entry (recover leaves a live run's entries alone). */
  owner?: number;
  /** HMAC of the line with this machine's journal key (journalKey.ts); set by FileJournal. */
  mac?: string;
}

export interface Journal {
  readonly path: string;
  record(entry: Omit<JournalEntry, 'id' | 'at' | 'mac'>): Promise<string>;
  clear(id: string): Promise<void>;
}
