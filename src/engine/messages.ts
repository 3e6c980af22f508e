/**
 * Every message between the coordinator and the load workers: one
 * discriminated union each way, in one file.
 */
import type { Stats } from '../timeline.ts';
import type { Segment } from './schedule.ts';

/** A request as a worker sends it. Function requests are loaded from the scenario file inside the worker. */
export interface WireRequest {
  name: string;
  method: string;
  /** Path with query, against the target origin. */
  path: string;
  /** Origin when it differs from the run's target (loopback only). */
  origin?: string;
  headers: Record<string, string>;
  body?: string;
  weight: number;
  /** Accepted statuses; undefined: any 1xx–3xx is fine. */
  expectStatus?: number[];
  /** The response body must contain this text. */
  bodyIncludes?: string;
  /** Index of a function request in the scenario's `requests` array (resolved in the worker). */
  fnIndex?: number;
}

/** The task each Piscina worker runs for a whole run. */
export interface WorkerTask {
  port: import('node:worker_threads').MessagePort;
  workerIndex: number;
  workers: number;
  /** This worker's share of every stage's arrivals (across agents and workers). */
  segment: Segment;
  target: string;
  requests: WireRequest[];
  scenarioFile?: string;
  /** Connections this worker opens (its share of the run's total). */
  connections: number;
  pipelining: number;
  /** Retries of an idempotent request whose attempt failed at the connection (0: never sent twice). */
  retries: number;
  timeoutMs: number;
  tickMs: number;
  /** Count 4xx responses as errors. */
  errors4xx: boolean;
  /** https trust: extra CA certificates (PEM) instead of the system's, or no verification at all. */
  tls?: { ca?: string; insecure?: boolean };
}

/** One stage as a worker runs it: its segment's rate (open) or share of the concurrency (closed). */
export interface WireStage {
  index: number;
  /** Absolute start, epoch ms (performance.timeOrigin + performance.now()). */
  startAt: number;
  durationMs: number;
  model: 'open' | 'closed';
  /** This worker's arrival rate at the stage's start and end, req/s (open). */
  rateFrom: number;
  rateTo: number;
  /** This worker's concurrency (closed). */
  concurrency: number;
}

export type ToWorker =
  | { type: 'stage'; stage: WireStage }
  /** Stop sending, wait for in-flight requests up to graceMs, flush, reply 'done'. */
  | { type: 'stop'; graceMs: number };

/** A window's stats for one request name, as a worker sends them: the Result's Stats, as is. */
export type WireStats = Stats;

export interface WireWindow {
  /** `${stage}:${n}` — identical across workers for the same window. */
  key: string;
  stage: number;
  seq: number;
  start: number;
  end: number;
  offered: number;
  sent: number;
  byName: Record<string, WireStats>;
  maxLagMs: number;
  elu: number;
  slipP99Ms: number;
  backlog: number;
  inFlight: number;
}

export type FromWorker =
  | { type: 'ready'; workerIndex: number }
  | { type: 'window'; workerIndex: number; window: WireWindow; final: boolean }
  | { type: 'done'; workerIndex: number }
  | { type: 'fatal'; workerIndex: number; message: string };
