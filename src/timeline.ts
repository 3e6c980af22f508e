/**
 * The Timeline vocabulary: what a window measured (Stats, Window), the events
 * of a run, the Timeline itself and a stage's summary. A leaf: it imports
 * nothing of faultline's, so the engine, metrics, hypothesis, analysis and
 * reports all build on it. Times are absolute epoch milliseconds; latencies in
 * summaries are ms; encoded histograms hold microseconds.
 */

/** Error kinds, as DESIGN.md lists them. http_4xx is counted apart and is not an error unless the scenario says so. */
export const ERROR_KINDS = [
  'connect_refused',
  'connect_timeout',
  'reset',
  'closed',
  'timeout',
  'http_5xx',
  'http_4xx',
  'unexpected_status',
  'mismatch',
  'malformed',
  'unfinished',
  'tls_expired',
  'tls_hostname',
  'tls_untrusted',
  'tls_handshake',
  'other',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  min: number;
}

/** What one window (or stage) saw for one request name, or for all of them. */
export interface Stats {
  /** Requests that completed in the window (a response or an error). */
  requests: number;
  /** Requests counted as errors (4xx only when the scenario says so). */
  errors: number;
  /** Count per kind, including http_4xx even when it is not an error. */
  byKind: Partial<Record<ErrorKind, number>>;
  /** First example message per kind. */
  examples: Partial<Record<ErrorKind, string>>;
  /** Corrected latency (from intended send time), HDR encoded (compressed base64), microseconds. */
  latency: string;
  /** Service time (from actual send), HDR encoded, microseconds. */
  service: string;
  /**
   * Requests still waiting for an answer at the window's end, at their age so far
   * (from the intended send), HDR encoded, microseconds: a lower bound of their
   * latency. Verdicts count them, so a stall shows in the window where it happens,
   * not only when the stalled requests finally complete. Absent when none waited.
   */
  pending?: string;
  /** Where the time went, per phase (absent when the window saw no request of this name). */
  phases?: Phases;
  /**
   * Attempts sent again (`engine.retries`; absent when none). `requests` and `errors` count each request once,
   * by its final outcome; every failed attempt that was retried is in `byKind` too, so its kinds sum to the
   * failed requests plus the retries.
   */
  retries?: number;
}

/** The phases of a request, as k6 names them; each an HDR histogram (encoded, microseconds). */
export const PHASES = ['wait', 'connect', 'ttfb', 'transfer'] as const;
export type Phase = (typeof PHASES)[number];
/**
 * wait: from the intended send to the send, waiting for a free connection slot inside the generator (open model);
 * connect: opening a new connection (one sample per new connection, under the name of the request that opened it);
 * ttfb: from the request on the wire to the first byte of its response; transfer: from that byte to the last.
 */
export type Phases = Partial<Record<Phase, string>>;

/** Generator health for a window: whether the generator, not the target, was the limit. */
export interface GeneratorHealth {
  /** Worst event-loop lag seen by any worker, ms. */
  maxLagMs: number;
  /** Highest event-loop utilisation (0..1) of any worker. */
  elu: number;
  /** 99th percentile of send slip (actual send − intended send), ms. */
  slipP99Ms: number;
  /** Arrivals that were due but not yet sent at the window's end. */
  backlog: number;
  /** Requests in flight at the window's end. */
  inFlight: number;
  /** The generator could not keep the schedule for reasons of its own (CPU, event loop). */
  limited: boolean;
  /** Why it was flagged, in words. */
  reason?: string;
}

/** One window of merged stats from every worker. */
export interface Window {
  index: number;
  stage: number;
  start: number;
  end: number;
  /** Arrivals the schedule intended in this window (open model), or sends (closed model). */
  offered: number;
  /** Requests actually sent in this window. */
  sent: number;
  /** offered / window seconds. */
  offeredRate: number;
  /** completed requests / window seconds. */
  achievedRate: number;
  overall: Stats;
  byName: Record<string, Stats>;
  generator: GeneratorHealth;
  /**
   * What the system sent to each dependency behind a fault proxy in this window,
   * by proxy name: connections it opened; for HTTP proxies also requests it sent
   * and those forwarded to the real upstream. Beside `sent`, it shows
   * amplification: retry storms, thundering herds after a recovery.
   */
  dependencies?: Record<string, { connections: number; requests?: number; forwarded?: number }>;
  /**
   * Probes polled in this window, by name (scenario `probes`): ok when every poll
   * that finished in the window passed; the slowest poll's latency; the failing
   * poll's value and reason.
   */
  probes?: Record<string, { ok: boolean; polls: number; failed: number; latencyMs: number; value?: string | number | boolean | null; message?: string }>;
  /**
   * Scale-out: agents whose share of this window is missing or was not sent as
   * planned. A window with any is inconclusive: its load is not the planned load.
   */
  agentProblems?: AgentProblem[];
}

/** Scale-out: what one agent did (agent 0 included), as agent 0 saw it. */
export interface AgentSummary {
  index: number;
  /** "agent 2 (host, pid 123)". */
  name: string;
  workers: number;
  /** Its clock minus agent 0's, ms (and the round trip that bounds it). */
  clockOffsetMs: number;
  roundTripMs: number;
  /** Requests it sent, and completed requests it reported that are in the Timeline. */
  sent: number;
  requests: number;
  /** Windows in which its share was missing (it was dead or stalled). */
  windowsMissing: number;
  /** Requests it reported after their window had gone on without it: not in the Timeline. */
  lateRequests: number;
  /** Why it was lost, when it was. */
  lost?: string;
}

/** An agent that did not send its share of a window, by name. */
export interface AgentProblem {
  /** "agent 2" (and its host, where known). */
  agent: string;
  problem: 'dead' | 'stalled' | 'generator-limited';
  detail: string;
}

export type TimelineEvent =
  | { t: number; type: 'run-start' }
  | { t: number; type: 'stage-start'; stage: number; offeredRate: number; label: string }
  /** t: when the effect was in place; requestedAt: when the trigger fired (the start was asked for). */
  | { t: number; type: 'fault-start'; fault: string; kind: string; target?: string; offeredRate: number; requestedAt?: number; detail?: Record<string, unknown> }
  /** t: when the undo had taken effect; requestedAt: when the stop was asked for (duration over, finished, run end). */
  | {
      t: number;
      type: 'fault-stop';
      fault: string;
      kind: string;
      offeredRate: number;
      requestedAt?: number;
      detail?: Record<string, unknown>;
      /** What the fault measured of its own effect (see MeasuredEffect in faults/types.ts). */
      effect?: { summary: string; values: Record<string, number>; noEffect: boolean };
    }
  | { t: number; type: 'fault-error'; fault: string; message: string }
  | { t: number; type: 'breach'; clause: string; value: number; window: number }
  | { t: number; type: 'recovery'; clause: string; window: number }
  | { t: number; type: 'abort'; reason: string }
  | { t: number; type: 'note'; message: string }
  /** A probe's answer changed (or its first answer): ok or failing, with what it read and why. */
  | { t: number; type: 'probe'; probe: string; ok: boolean; latencyMs: number; value?: string | number | boolean | null; message?: string }
  | { t: number; type: 'run-end' };

export interface Timeline {
  /** Window length, ms. */
  tickMs: number;
  windows: Window[];
  events: TimelineEvent[];
}

/** A stage's summary: everything its windows saw, merged. */
export interface StageResult {
  index: number;
  label: string;
  model: 'open' | 'closed';
  start: number;
  end: number;
  /** Planned arrival rate (req/s); for a ramp, the mean over the stage. For closed stages, the achieved rate. */
  offeredRate: number;
  /** For a ramp: start and end of the planned rate. */
  rateFrom?: number;
  rateTo?: number;
  /** Closed model: fixed concurrency. */
  concurrency?: number;
  achievedRate: number;
  requests: number;
  errors: Partial<Record<ErrorKind, number>>;
  errorCount: number;
  errorRate: number;
  /** First example message per error kind. */
  examples: Partial<Record<ErrorKind, string>>;
  latency: LatencySummary;
  serviceTime: LatencySummary;
  byName: Record<string, { requests: number; errorCount: number; errorRate: number; latency: LatencySummary }>;
  generatorLimited: boolean;
  generatorReason?: string;
  /** Excluded from verdicts (search warm-up windows). */
  warmupMs?: number;
  /** Attempts sent again (opt-in `engine.retries`); their failures are in `errors` by kind. Absent when none. */
  retries?: number;
}
