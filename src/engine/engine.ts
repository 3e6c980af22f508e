/**
 * The engine: a Piscina pool of load workers, one long-lived task each, fed
 * stage commands over a MessagePort and streaming windows back. It merges each
 * window once every worker has sent it and hands it to the coordinator.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { StagePlan } from '../profiles/types.ts';
import type { AgentSummary, Window } from '../timeline.ts';
import { mergeWindows } from '../metrics/merge.ts';
import { UsageError } from '../errors.ts';
import type { FromWorker, ToWorker, WireRequest, WireStage, WireWindow } from './messages.ts';
import { WHOLE, concurrencyShare, segmentRate, subSegment, type Segment } from './schedule.ts';

/** Young generation of each load worker, MB (three semi-spaces of 8 MB: see the pool options); FAULTLINE_YOUNG_MB, at least 4, changes it. */
const youngMb = Number(process.env.FAULTLINE_YOUNG_MB);
const YOUNG_GENERATION_MB = Number.isFinite(youngMb) && youngMb >= 4 ? youngMb : 24;

/**
 * How the load is sent: the scenario's `engine` keys as normalize resolves
 * them. One shape from the config through the coordinator and the agents to
 * the engine.
 */
export interface EngineSettings {
  workers: number;
  connections: number;
  pipelining: number;
  /** Opt-in retries of idempotent requests that fail at the connection (0: nothing is sent twice). */
  retries?: number;
  timeoutMs: number;
  errors4xx: boolean;
  /** https trust: the CA certificates' PEM (read from `engine.ca`), or no verification (`engine.insecure`). */
  tls?: { ca?: string; caFile?: string; insecure?: boolean };
}

/** What an engine runs: the settings, the requests and where they go, and where windows go. */
export interface EngineOptions extends EngineSettings {
  target: string;
  requests: WireRequest[];
  scenarioFile?: string;
  tickMs: number;
  /** This engine's share of the schedule when several agents run it (default: all of it). */
  segment?: Segment;
  /**
   * Hands every worker's window over as it is, unmerged (an agent forwards them to agent 0,
   * which merges every worker of every agent at once). onWindow is not called then.
   */
  onPart?: (part: WireWindow, workerIndex: number, final: boolean) => void;
  /** A merged window, in order. */
  onWindow: (w: Window) => void;
  /** A worker failed: the run cannot go on. */
  onFatal: (message: string) => void;
}

/** What the coordinator drives: one process's workers (Engine), or every agent's (agents/fleet.ts). */
export interface LoadEngine {
  start(): Promise<void>;
  /** Starts a stage at `startAt` (epoch ms) on every worker, each with its segment. */
  runStage(plan: StagePlan, index: number, startAt: number): void;
  /** Stops sending, lets requests in flight finish (up to graceMs), returns the final windows. */
  stop(graceMs: number, reason?: string): Promise<WireWindow[]>;
  /** Scale-out: what each agent did (after stop). */
  agents?(): AgentSummary[];
}

export class Engine implements LoadEngine {
  readonly opts: EngineOptions;
  private pool: Piscina | undefined;
  private ports: MessagePort[] = [];
  private pending = new Map<string, WireWindow[]>();
  private ready = 0;
  private done = 0;
  private readyWait: (() => void) | undefined;
  private doneWait: (() => void) | undefined;
  private windowIndex = 0;
  private model: 'open' | 'closed' = 'open';
  private failed = false;
  /** Final windows (in-flight requests that completed after the last boundary), handed back by stop(). */
  private finalParts: WireWindow[] = [];

  constructor(opts: EngineOptions) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.pool = new Piscina({
      filename: new URL('./worker.ts', import.meta.url).href,
      minThreads: o.workers,
      maxThreads: o.workers,
      concurrentTasksPerWorker: 1,
      // Each task lives for the whole run and keeps its event loop busy with sockets and timers.
      atomics: 'disabled',
      idleTimeout: 60_000,
      maxQueue: o.workers,
      // A fixed ceiling for the young generation (8 MB semi-spaces). V8 otherwise doubles it from 8 to 16 MB some
      // 20 s into a busy run (bench/rss.ts saw RSS step up 22-25 MB between 3 and 5 M responses, then stay): memory
      // that depends on how long the run has gone, not on what it holds. The live heap is ≈ 18 MB either way.
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const perWorker = Math.max(1, Math.floor(o.connections / o.workers));
    const allReady = new Promise<void>((resolve) => (this.readyWait = resolve));
    // A worker that cannot start (a request it cannot encode, a scenario module that throws) says why at once.
    const startFailed = new Promise<never>((_, reject) => (this.startFail = reject));
    for (let i = 0; i < o.workers; i++) {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (m: FromWorker) => this.onMessage(m));
      this.ports.push(port1);
      void this.pool
        .run(
          {
            port: port2,
            workerIndex: i,
            workers: o.workers,
            segment: this.segmentOf(i),
            target: o.target,
            requests: o.requests,
            scenarioFile: o.scenarioFile,
            connections: perWorker,
            pipelining: o.pipelining,
            retries: o.retries ?? 0,
            timeoutMs: o.timeoutMs,
            tickMs: o.tickMs,
            errors4xx: o.errors4xx,
            tls: o.tls,
          },
          { transferList: [port2] },
        )
        .catch((e: Error) => {
          // A dead worker sends no 'done': stop() must not wait for it.
          if (++this.done === this.opts.workers) this.doneWait?.();
          this.fatal(`load worker ${i} ${this.startFail ? 'could not start' : 'failed'}: ${e.message.split('\n')[0]}`);
        });
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        allReady,
        startFailed,
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error('load workers did not start within 30 s')), 30_000);
          timer.unref();
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.startFail = undefined;
    }
  }

  private startFail: ((e: Error) => void) | undefined;

  private stopping = false;

  private fatal(message: string): void {
    // Piscina rejects every task when the pool is destroyed at the end: that is not a failure.
    if (this.failed || this.stopping) return;
    this.failed = true;
    if (this.startFail) {
      // Not started yet: start() rejects with the worker's own words (a problem of the scenario, found by the worker).
      this.startFail(new UsageError(message));
      return;
    }
    this.opts.onFatal(message);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        if (++this.ready === this.opts.workers) this.readyWait?.();
        break;
      case 'window': {
        if (this.opts.onPart) {
          this.opts.onPart(m.window, m.workerIndex, m.final);
          break;
        }
        if (m.final) {
          this.finalParts.push(m.window);
          break;
        }
        const list = this.pending.get(m.window.key) ?? [];
        list.push(m.window);
        if (list.length === this.opts.workers) {
          this.pending.delete(m.window.key);
          this.opts.onWindow(mergeWindows(this.windowIndex++, list, this.model, this.maxInFlight()));
        } else this.pending.set(m.window.key, list);
        break;
      }
      case 'done':
        if (++this.done === this.opts.workers) this.doneWait?.();
        break;
      case 'fatal':
        this.fatal(`load worker ${m.workerIndex}: ${m.message}`);
        break;
    }
  }

  /** Connection slots across workers (each worker opens its share of connections × pipelining). */
  private maxInFlight(): number {
    const o = this.opts;
    return Math.max(1, Math.floor(o.connections / o.workers)) * o.workers * o.pipelining;
  }

  private broadcast(make: (i: number) => ToWorker): void {
    this.ports.forEach((p, i) => p.postMessage(make(i)));
  }

  /** Worker i's segment: its share of this engine's share of the schedule. */
  private segmentOf(i: number): Segment {
    return subSegment(this.opts.segment ?? WHOLE, i, this.opts.workers);
  }

  /** Starts a stage on every worker at `startAt` (epoch ms), each with its segment of the whole stage. */
  runStage(plan: StagePlan, index: number, startAt: number): void {
    this.model = plan.model;
    this.broadcast((i): ToWorker => {
      const seg = this.segmentOf(i);
      const stage: WireStage = {
        index,
        startAt,
        durationMs: plan.durationMs,
        model: plan.model,
        rateFrom: segmentRate(seg, plan.rateFrom),
        rateTo: segmentRate(seg, plan.rateTo),
        concurrency: concurrencyShare(seg, plan.concurrency),
      };
      return { type: 'stage', stage };
    });
  }

  /** Stops sending, lets in-flight requests finish (up to graceMs), collects final windows, shuts the pool. */
  async stop(graceMs: number): Promise<WireWindow[]> {
    if (!this.pool) return [];
    const allDone = new Promise<void>((resolve) => (this.doneWait = resolve));
    if (this.done < this.opts.workers) {
      this.broadcast(() => ({ type: 'stop', graceMs }));
      await Promise.race([allDone, new Promise<void>((r) => setTimeout(r, graceMs + 3000).unref())]);
    }
    // Windows still pending (a worker died mid-run) are merged from what arrived.
    for (const [, list] of this.pending) this.opts.onWindow(mergeWindows(this.windowIndex++, list, this.model, this.maxInFlight()));
    this.pending.clear();
    const pool = this.pool;
    this.pool = undefined;
    this.stopping = true;
    for (const p of this.ports) p.close();
    await pool.destroy().catch(() => {});
    return this.finalParts;
  }
}
