/**
 * A load worker: runs inside a Piscina thread for the whole run. It owns an
 * undici Pool and an arrival scheduler for its share of each stage, records
 * latency into HDR histograms and streams one window of stats per tick to the
 * coordinator over the MessagePort it was given. It never decides verdicts.
 *
 * Open model (default): arrivals follow the stage's schedule, not the previous
 * response. Arrivals that are due while every connection slot is busy wait in
 * a backlog that is only an index range (memory stays flat), and each request's
 * latency is measured from its *intended* send time (coordinated omission
 * corrected, as wrk2 does); service time from the actual send is kept beside it.
 */
import { Pool } from 'undici';
import { performance, monitorEventLoopDelay, type EventLoopUtilization } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { Histogram } from 'hdr-histogram-js';
import { initHistograms, newHistogram, encode, clampUs } from '../metrics/histogram.ts';
import { ERROR_KINDS, type ErrorKind } from '../result.ts';
import type { FromWorker, ToWorker, WireRequest, WireStage, WireStats, WireWindow, WorkerTask } from './messages.ts';
import { arrivalsBefore, arrivalTime } from './schedule.ts';

const KIND_INDEX: Record<ErrorKind, number> = Object.fromEntries(ERROR_KINDS.map((k, i) => [k, i])) as Record<ErrorKind, number>;
const HTTP_4XX = KIND_INDEX.http_4xx;

/** Per request name, per window. */
class Recorder {
  readonly name: string;
  latency: Histogram = newHistogram();
  service: Histogram = newHistogram();
  requests = 0;
  errors = 0;
  byKind = new Float64Array(ERROR_KINDS.length);
  examples: (string | undefined)[] = new Array(ERROR_KINDS.length);
  constructor(name: string) {
    this.name = name;
  }
  snapshot(): WireStats {
    const byKind: Partial<Record<ErrorKind, number>> = {};
    const examples: Partial<Record<ErrorKind, string>> = {};
    for (let i = 0; i < ERROR_KINDS.length; i++) {
      if (this.byKind[i] > 0) {
        byKind[ERROR_KINDS[i]] = this.byKind[i];
        if (this.examples[i] !== undefined) examples[ERROR_KINDS[i]] = this.examples[i];
      }
    }
    const s: WireStats = {
      requests: this.requests,
      errors: this.errors,
      byKind,
      examples,
      latency: encode(this.latency),
      service: encode(this.service),
    };
    this.latency.reset();
    this.service.reset();
    this.requests = 0;
    this.errors = 0;
    this.byKind.fill(0);
    // Examples are kept only for the first window that saw a kind, so the result holds a first example each.
    return s;
  }
}

/** Resolved request template (static, or a function evaluated per request). */
interface Template {
  rec: Recorder;
  wire: WireRequest;
  fn?: (ctx: { seq: number; worker: number }) => { method?: string; path?: string; headers?: Record<string, string>; body?: unknown; json?: unknown };
  dispatchOpts: { path: string; method: string; headers: Record<string, string>; body: string | null; headersTimeout: number; bodyTimeout: number; blocking: boolean };
}

export default async function loadWorker(task: WorkerTask): Promise<string> {
  await initHistograms();
  const port = task.port as MessagePort;
  const send = (m: FromWorker) => port.postMessage(m);
  const w = new LoadWorker(task, send);
  await w.init();
  return await new Promise<string>((resolve) => {
    w.onDone = () => {
      port.off('message', onMessage);
      resolve('done');
    };
    const onMessage = (m: ToWorker) => {
      try {
        w.handle(m);
      } catch (e) {
        send({ type: 'fatal', workerIndex: task.workerIndex, message: (e as Error).message });
      }
    };
    port.on('message', onMessage);
    send({ type: 'ready', workerIndex: task.workerIndex });
  });
}

class LoadWorker {
  readonly task: WorkerTask;
  readonly send: (m: FromWorker) => void;
  onDone: () => void = () => {};
  pool!: Pool;
  templates: Template[] = [];
  recorders: Recorder[] = [];
  /** Smooth weighted round-robin state (nginx's algorithm): exact proportions, no randomness. */
  wrrCurrent: number[] = [];
  wrrTotal = 0;
  maxInFlight: number;
  inFlight = 0;
  seq = 0;
  // Stage state, in local performance.now() ms.
  stage: WireStage | undefined;
  stageStart = 0;
  stageEnd = 0;
  /** Arrival phase offset in [0,1): spreads workers' arrivals evenly between each other's. */
  phase: number;
  nextIdx = 0;
  totalArrivals = 0;
  stageActive = false;
  stopping = false;
  pumpTimer: NodeJS.Timeout | undefined;
  pumpScheduled = false;
  flushTimer: NodeJS.Timeout | undefined;
  // Window state.
  winSeq = 0;
  winStart = 0;
  winOfferedBase = 0;
  sentInWindow = 0;
  slip: Histogram = newHistogram();
  lag = monitorEventLoopDelay({ resolution: 10 });
  elu: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(task: WorkerTask, send: (m: FromWorker) => void) {
    this.task = task;
    this.send = send;
    this.maxInFlight = Math.max(1, task.connections * task.pipelining);
    this.phase = task.workers > 1 ? task.workerIndex / task.workers : 0;
  }

  async init(): Promise<void> {
    const t = this.task;
    this.pool = new Pool(t.target, {
      connections: t.connections,
      pipelining: t.pipelining,
      headersTimeout: t.timeoutMs,
      bodyTimeout: t.timeoutMs,
      connect: { timeout: Math.min(t.timeoutMs, 10_000) },
      keepAliveTimeout: 60_000,
    });
    let mod: { default?: { requests?: unknown[] }; requests?: unknown[] } | undefined;
    if (t.requests.some((r) => r.fnIndex !== undefined) && t.scenarioFile) {
      const { loadModule } = await import('../config/loadModule.ts');
      mod = (await loadModule(t.scenarioFile)) as typeof mod;
    }
    const byName = new Map<string, Recorder>();
    for (const r of t.requests) {
      let rec = byName.get(r.name);
      if (!rec) {
        rec = new Recorder(r.name);
        byName.set(r.name, rec);
        this.recorders.push(rec);
      }
      const tpl: Template = {
        rec,
        wire: r,
        dispatchOpts: {
          path: r.path,
          method: r.method,
          headers: r.headers,
          body: r.body ?? null,
          headersTimeout: t.timeoutMs,
          bodyTimeout: t.timeoutMs,
          blocking: r.method !== 'HEAD',
        },
      };
      if (r.fnIndex !== undefined) {
        const scen = (mod?.default ?? mod) as { requests?: unknown[] } | undefined;
        const entry = scen?.requests?.[r.fnIndex] as { request?: unknown } | ((...a: unknown[]) => unknown) | undefined;
        const fn = typeof entry === 'function' ? entry : (entry as { request?: unknown } | undefined)?.request;
        if (typeof fn !== 'function') throw new Error(`requests[${r.fnIndex}] is not a function in ${t.scenarioFile}`);
        tpl.fn = fn as Template['fn'];
      }
      this.templates.push(tpl);
      this.wrrCurrent.push(0);
      this.wrrTotal += r.weight;
    }
    this.lag.enable();
    this.elu = performance.eventLoopUtilization();
    this.winStart = performance.timeOrigin + performance.now();
  }

  handle(m: ToWorker): void {
    if (m.type === 'stage') this.startStage(m.stage);
    else if (m.type === 'stop') void this.stop(m.graceMs);
  }

  // ---- scheduling (when) ----

  startStage(s: WireStage): void {
    const localStart = s.startAt - performance.timeOrigin;
    const begin = () => {
      // The previous stage's last window is due at this very moment: flush it first so no window is lost.
      if (this.stage && this.flushTimer) {
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
        this.stageActive = false;
        this.flush(this.stageEnd, false);
      }
      if (this.pumpTimer) clearTimeout(this.pumpTimer);
      this.pumpTimer = undefined;
      this.stage = s;
      // Windows begin with the stage (completions during a gap between stages count in its first window).
      this.winStart = s.startAt;
      this.stageStart = localStart;
      this.stageEnd = localStart + s.durationMs;
      this.nextIdx = 0;
      this.winSeq = 0;
      this.winOfferedBase = 0;
      this.stageActive = true;
      if (s.model === 'open') {
        this.totalArrivals = arrivalsBefore(s.durationMs, s.rateFrom, s.rateTo, s.durationMs, this.phase);
        this.pump();
      } else {
        this.totalArrivals = Infinity;
        for (let i = 0; i < s.concurrency; i++) this.sendOne(performance.now());
      }
      this.armFlush();
    };
    const wait = localStart - performance.now();
    if (wait > 0) setTimeout(begin, wait);
    else begin();
  }

  /** Sends every arrival that is due, as far as connection slots allow; then sleeps until the next one. */
  pump = (): void => {
    this.pumpTimer = undefined;
    this.pumpScheduled = false;
    const s = this.stage;
    if (!s || !this.stageActive || s.model !== 'open') return;
    const now = performance.now();
    const elapsed = Math.min(now - this.stageStart, s.durationMs);
    const due = arrivalsBefore(elapsed, s.rateFrom, s.rateTo, s.durationMs, this.phase);
    while (this.nextIdx < due && this.inFlight < this.maxInFlight) {
      const intended = this.stageStart + arrivalTime(this.nextIdx, s.rateFrom, s.rateTo, s.durationMs, this.phase);
      this.nextIdx++;
      this.sendOne(intended);
    }
    if (this.nextIdx < due) return; // backlog: a completion will call pump()
    if (this.nextIdx >= this.totalArrivals) return; // stage schedule exhausted
    const nextAt = this.stageStart + arrivalTime(this.nextIdx, s.rateFrom, s.rateTo, s.durationMs, this.phase);
    // Timers have ~1 ms granularity; never busy-spin (the target may share this core).
    this.pumpTimer = setTimeout(this.pump, Math.max(1, nextAt - performance.now()));
  };

  // ---- sending (send) ----

  pickTemplate(): Template {
    const tpls = this.templates;
    if (tpls.length === 1) return tpls[0];
    let best = 0;
    for (let i = 0; i < tpls.length; i++) {
      this.wrrCurrent[i] += tpls[i].wire.weight;
      if (this.wrrCurrent[i] > this.wrrCurrent[best]) best = i;
    }
    this.wrrCurrent[best] -= this.wrrTotal;
    return tpls[best];
  }

  sendOne(intended: number): void {
    const tpl = this.pickTemplate();
    const now = performance.now();
    const slipUs = (now - intended) * 1000;
    this.slip.recordValue(clampUs(slipUs));
    this.inFlight++;
    this.sentInWindow++;
    const h = new Handler(this, tpl, intended, now);
    let opts = tpl.dispatchOpts;
    if (tpl.fn) {
      try {
        opts = resolveFn(tpl, this.seq++, this.task.workerIndex);
      } catch (e) {
        h.fail('other', `request function threw: ${(e as Error).message}`);
        return;
      }
    }
    try {
      this.pool.dispatch(opts, h);
    } catch (e) {
      h.fail('other', (e as Error).message);
    }
  }

  /** Called by a Handler when its request is over. */
  completed(): void {
    this.inFlight--;
    if (this.stopping) {
      if (this.inFlight === 0 && this.drainResolve) this.drainResolve();
      return;
    }
    const s = this.stage;
    if (!s || !this.stageActive) return;
    if (s.model === 'closed') {
      if (performance.now() < this.stageEnd) this.sendOne(performance.now());
      return;
    }
    // A slot freed: send from the backlog right away, outside the undici callback.
    // (A pending timer means there is no backlog: the next arrival is in the future.)
    if (this.pumpTimer === undefined && !this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(this.pump);
    }
  }

  // ---- recording and flushing (record) ----

  armFlush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    const s = this.stage;
    if (!s) return;
    const tick = this.task.tickMs;
    const boundary = Math.min(this.stageStart + (this.winSeq + 1) * tick, this.stageEnd);
    this.flushTimer = setTimeout(() => this.onBoundary(boundary), Math.max(0, boundary - performance.now()));
  }

  onBoundary(boundary: number): void {
    this.flushTimer = undefined;
    const s = this.stage;
    if (!s) return;
    const atEnd = boundary >= this.stageEnd - 0.001;
    if (atEnd) {
      this.stageActive = false;
      if (this.pumpTimer) clearTimeout(this.pumpTimer);
      this.pumpTimer = undefined;
    }
    this.flush(boundary, false);
    if (!atEnd) this.armFlush();
  }

  flush(boundaryLocal: number, final: boolean): void {
    const s = this.stage;
    const stageIdx = s?.index ?? -1;
    let offered: number;
    if (s && s.model === 'open') {
      const el = Math.min(Math.max(boundaryLocal - this.stageStart, 0), s.durationMs);
      const due = arrivalsBefore(el, s.rateFrom, s.rateTo, s.durationMs, this.phase);
      offered = due - this.winOfferedBase;
      this.winOfferedBase = due;
    } else {
      offered = this.sentInWindow;
    }
    const backlog = s && s.model === 'open' ? Math.max(0, this.winOfferedBase - this.nextIdx) : 0;
    const byName: Record<string, WireStats> = {};
    for (const r of this.recorders) byName[r.name] = r.snapshot();
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    const end = performance.timeOrigin + boundaryLocal;
    const win: WireWindow = {
      key: `${stageIdx}:${this.winSeq}`,
      stage: stageIdx,
      seq: this.winSeq,
      start: this.winStart,
      end,
      offered,
      sent: this.sentInWindow,
      byName,
      maxLagMs: this.lag.max / 1e6,
      elu: elu.utilization,
      slipP99Ms: this.slip.totalCount > 0 ? this.slip.getValueAtPercentile(99) / 1000 : 0,
      backlog,
      inFlight: this.inFlight,
    };
    this.slip.reset();
    this.lag.reset();
    this.sentInWindow = 0;
    this.winStart = end;
    this.winSeq++;
    this.send({ type: 'window', workerIndex: this.task.workerIndex, window: win, final });
  }

  drainResolve: (() => void) | undefined;

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.stageActive = false;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drainResolve = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    // Whatever completed since the last boundary goes into a final window.
    this.flush(performance.now(), true);
    this.lag.disable();
    this.pool.destroy().catch(() => {});
    this.send({ type: 'done', workerIndex: this.task.workerIndex });
    this.onDone();
  }
}

function resolveFn(tpl: Template, seq: number, worker: number): Template['dispatchOpts'] {
  const out = tpl.fn!({ seq, worker });
  const headers = { ...tpl.wire.headers, ...(out.headers ?? {}) };
  let body: string | null = tpl.dispatchOpts.body;
  if (out.json !== undefined) {
    body = JSON.stringify(out.json);
    headers['content-type'] ??= 'application/json';
  } else if (out.body !== undefined) {
    body = typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
  }
  return { ...tpl.dispatchOpts, method: out.method ?? tpl.wire.method, path: out.path ?? tpl.wire.path, headers, body };
}

/** undici dispatch handler for one request: classifies the outcome and records it. */
class Handler {
  readonly w: LoadWorker;
  readonly tpl: Template;
  readonly intended: number;
  readonly sentAt: number;
  status = 0;
  body = '';
  done = false;
  constructor(w: LoadWorker, tpl: Template, intended: number, sentAt: number) {
    this.w = w;
    this.tpl = tpl;
    this.intended = intended;
    this.sentAt = sentAt;
  }
  onRequestStart(): void {}
  onResponseStart(_c: unknown, statusCode: number): void {
    this.status = statusCode;
  }
  onResponseData(_c: unknown, chunk: Buffer): void {
    // Bodies are consumed (and dropped) unless an assertion needs them.
    if (this.tpl.wire.bodyIncludes !== undefined && this.body.length < 1 << 20) this.body += chunk.toString();
  }
  onResponseEnd(): void {
    if (this.done) return;
    const st = this.status;
    if (st < 100) return this.fail('other', 'no response status');
    const expect = this.tpl.wire.expectStatus;
    let kind: ErrorKind | undefined;
    if (expect ? !expect.includes(st) : st >= 400) {
      kind = st >= 500 ? 'http_5xx' : st >= 400 && !expect ? 'http_4xx' : 'unexpected_status';
    }
    if (kind === undefined && this.tpl.wire.bodyIncludes !== undefined && !this.body.includes(this.tpl.wire.bodyIncludes)) {
      kind = 'mismatch';
    }
    if (kind === undefined) this.record(undefined, '');
    else this.record(kind, kind === 'mismatch' ? `body did not include ${JSON.stringify(this.tpl.wire.bodyIncludes)}` : `HTTP ${st} from ${this.tpl.wire.method} ${this.tpl.wire.path}`);
  }
  onResponseError(_c: unknown, err: Error & { code?: string; cause?: { code?: string } }): void {
    if (this.done) return;
    if (this.w.stopping && (err.name === 'ClientDestroyedError' || err.name === 'AbortError')) {
      this.done = true;
      this.w.completed();
      return;
    }
    this.fail(classify(err), `${err.code ?? err.name}: ${err.message}`);
  }
  fail(kind: ErrorKind, message: string): void {
    if (this.done) return;
    this.record(kind, message);
  }
  record(kind: ErrorKind | undefined, message: string): void {
    this.done = true;
    const now = performance.now();
    const rec = this.tpl.rec;
    let latencyMs = now - this.intended;
    if (kind === 'timeout' && latencyMs < this.w.task.timeoutMs) latencyMs = this.w.task.timeoutMs;
    rec.latency.recordValue(clampUs(latencyMs * 1000));
    rec.service.recordValue(clampUs((now - this.sentAt) * 1000));
    rec.requests++;
    if (kind !== undefined) {
      const i = KIND_INDEX[kind];
      rec.byKind[i]++;
      if (i !== HTTP_4XX || this.w.task.errors4xx) rec.errors++;
      if (rec.examples[i] === undefined) rec.examples[i] = message.slice(0, 300);
    }
    this.w.completed();
  }
}

function classify(err: Error & { code?: string; cause?: { code?: string } }): ErrorKind {
  const code = err.code ?? err.cause?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect_refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connect_timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'reset';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    default:
      return 'other';
  }
}
