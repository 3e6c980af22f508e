/**
 * A load worker: runs inside a Piscina thread for the whole run. It owns its
 * connections and an arrival scheduler for its share of each stage, records latency into HDR histograms and streams one window of stats
 * per tick to the coordinator over the MessagePort it was given. It never
 * decides verdicts.
 *
 * Open model (default): arrivals follow the stage's schedule, not the previous
 * response. Arrivals that are due while every connection slot is busy wait in
 * a backlog that is only an index range (memory stays flat), and each request's
 * latency is measured from its *intended* send time (coordinated omission
 * corrected, as wrk2 does); service time from the actual send is kept beside it.
 *
 * Speed (measured in bench/): plain-http targets go through a lean HTTP/1.1
 * connection of our own (http1.ts, requests encoded once, responses parsed in
 * place); https targets, or FAULTLINE_HTTP_CLIENT=undici, use one undici
 * Client per connection. Either way requests go straight to a connection
 * through a stack of free connection slots (O(1) per request, where an undici
 * Pool scans its clients), pipelined requests are really pipelined (undici's
 * default `blocking` would hold each one until the previous response's
 * headers), the requests a connection gets in one turn of the event loop leave
 * in one write, and timeouts are enforced by one periodic sweep instead of a
 * timer per request.
 */
import { Client, buildConnector } from 'undici';
import type { Socket } from 'node:net';
import { performance, monitorEventLoopDelay, type EventLoopUtilization } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { Histogram } from 'hdr-histogram-js';
import { initHistograms, newHistogram, encode, clampUs } from '../metrics/histogram.ts';
import { ERROR_KINDS, type ErrorKind } from '../timeline.ts';
import type { FromWorker, ToWorker, WireRequest, WireStage, WireStats, WireWindow, WorkerTask } from './messages.ts';
import { arrivalsBefore, arrivalTime, segmentPhase } from './schedule.ts';
import { H1Connection, encodeRequest } from './http1.ts';
import { classify } from './classify.ts';
import { StringDecoder } from 'node:string_decoder';

const KIND_INDEX: Record<ErrorKind, number> = Object.fromEntries(ERROR_KINDS.map((k, i) => [k, i])) as Record<ErrorKind, number>;
const HTTP_4XX = KIND_INDEX.http_4xx;
const UNFINISHED = KIND_INDEX.unfinished;

/** Per request name, per window. */
class Recorder {
  readonly name: string;
  latency: Histogram = newHistogram();
  service: Histogram = newHistogram();
  /** Ages of this name's requests in flight at the window's end (see Stats.pending). */
  pending: Histogram = newHistogram();
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
    if (this.pending.totalCount > 0) {
      s.pending = encode(this.pending);
      this.pending.reset();
    }
    this.latency.reset();
    this.service.reset();
    this.requests = 0;
    this.errors = 0;
    this.byKind.fill(0);
    // Examples are kept only for the first window that saw a kind, so the result holds a first example each.
    return s;
  }
}

type DispatchOpts = { path: string; method: string; headers: Record<string, string>; body: string | null; headersTimeout: number; bodyTimeout: number; blocking: boolean };

/** Resolved request template (static, or a function evaluated per request). */
interface Template {
  rec: Recorder;
  wire: WireRequest;
  fn?: (ctx: { seq: number; worker: number }) => { method?: string; path?: string; headers?: Record<string, string>; body?: unknown; json?: unknown };
  dispatchOpts: DispatchOpts;
  /** The request encoded once, for the http1 fast path (static requests only). */
  bytes: Buffer | undefined;
  /** Only assertions on the body need its bytes; every other body is consumed and dropped. */
  keepBody: boolean;
}

/** Arrival times waiting for a connection slot in a closed-model stage whose concurrency exceeds the slots (FIFO ring). */
class WaitingRing {
  buf: Float64Array;
  head = 0;
  size = 0;
  constructor(capacity: number) {
    this.buf = new Float64Array(Math.max(1, capacity));
  }
  push(t: number): void {
    if (this.size === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) % this.buf.length];
      this.buf = next;
      this.head = 0;
    }
    this.buf[(this.head + this.size) % this.buf.length] = t;
    this.size++;
  }
  shift(): number {
    const t = this.buf[this.head];
    this.head = (this.head + 1) % this.buf.length;
    this.size--;
    return t;
  }
  clear(): void {
    this.head = 0;
    this.size = 0;
  }
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
  templates: Template[] = [];
  recorders: Recorder[] = [];
  /** Smooth weighted round-robin state (nginx's algorithm): exact proportions, no randomness. */
  wrrCurrent: number[] = [];
  wrrTotal = 0;
  // Connection slots: slot s is one pipelining place on connection s % connections; connections open on first use.
  /** The fast path (plain http): our own HTTP/1.1 connections; otherwise undici Clients. */
  fast: boolean;
  conns: H1Connection[] = [];
  clients: Client[] = [];
  target: URL;
  /** Each client's current socket (from our connector), to batch pipelined writes. */
  sockets: (Socket | undefined)[] = [];
  /** Sockets corked during this turn of the event loop; uncorked together on the next tick. */
  corked: Socket[] = [];
  batchWrites: boolean;
  connector: ReturnType<typeof buildConnector>;
  maxSlots: number;
  /** Slots handed out so far (slots ≥ this have never been used). */
  openedSlots = 0;
  /** Free slots, used as a stack: the most recently freed connection is reused first, so low rates keep few connections warm. */
  freeSlots: number[] = [];
  /** The request on each slot, for the timeout sweep. */
  slotRequest: (Handler | undefined)[] = [];
  sweepTimer: NodeJS.Timeout | undefined;
  inFlight = 0;
  seq = 0;
  /** True while sendOne runs: a request that fails at once must not resend from inside it (closed model). */
  inSend = false;
  // Stage state, in local performance.now() ms.
  stage: WireStage | undefined;
  stageStart = 0;
  stageEnd = 0;
  open = true;
  /** Arrival phase offset in [0,1): this worker's segment of the schedule (arrivals i ≡ segment.index mod segment.count). */
  phase: number;
  nextIdx = 0;
  totalArrivals = 0;
  /** Closed model: users ready to send while every slot is busy. */
  waiting = new WaitingRing(64);
  stageActive = false;
  /** Set while the stage's final boundary sends what is left of its schedule. */
  ending = false;
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
    this.maxSlots = Math.max(1, task.connections * task.pipelining);
    this.phase = segmentPhase(task.segment);
    this.batchWrites = task.pipelining > 1;
    this.connector = buildConnector({ timeout: Math.min(task.timeoutMs, 10_000) });
    this.target = new URL(task.target);
    this.fast = this.target.protocol === 'http:' && process.env.FAULTLINE_HTTP_CLIENT !== 'undici';
  }

  async init(): Promise<void> {
    const t = this.task;
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
        bytes: undefined,
        keepBody: r.bodyIncludes !== undefined,
        dispatchOpts: {
          path: r.path,
          method: r.method,
          headers: r.headers,
          body: r.body ?? null,
          headersTimeout: 0,
          bodyTimeout: 0,
          // undici's default (true except for HEAD) sends nothing more on a connection until the previous
          // response's headers arrived, which turns pipelining off.
          blocking: t.pipelining > 1 ? false : r.method !== 'HEAD',
        },
      };
      if (r.fnIndex !== undefined) {
        const scen = (mod?.default ?? mod) as { requests?: unknown[] } | undefined;
        const entry = scen?.requests?.[r.fnIndex] as { request?: unknown } | ((...a: unknown[]) => unknown) | undefined;
        const fn = typeof entry === 'function' ? entry : (entry as { request?: unknown } | undefined)?.request;
        if (typeof fn !== 'function') throw new Error(`requests[${r.fnIndex}] is not a function in ${t.scenarioFile}`);
        tpl.fn = fn as Template['fn'];
      } else if (this.fast) {
        tpl.bytes = encodeRequest(this.target.host, r.method, r.path, r.headers, r.body ?? null);
      }
      this.templates.push(tpl);
      this.wrrCurrent.push(0);
      this.wrrTotal += r.weight;
    }
    // A timed-out request is found within a twentieth of the timeout (at most 100 ms late).
    const sweepMs = Math.max(5, Math.min(100, Math.floor(t.timeoutMs / 20)));
    this.sweepTimer = setInterval(this.sweep, sweepMs);
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
      this.open = s.model === 'open';
      // Windows begin with the stage (completions during a gap between stages count in its first window).
      this.winStart = s.startAt;
      this.stageStart = localStart;
      this.stageEnd = localStart + s.durationMs;
      this.nextIdx = 0;
      this.winSeq = 0;
      this.winOfferedBase = 0;
      this.waiting.clear();
      // The window's event-loop figures start with it too (not at start-up, while the worker waited for the stage).
      this.elu = performance.eventLoopUtilization();
      this.lag.reset();
      this.slip.reset();
      this.stageActive = true;
      if (this.open) {
        this.totalArrivals = arrivalsBefore(s.durationMs, s.rateFrom, s.rateTo, s.durationMs, this.phase);
        this.pump();
      } else {
        this.totalArrivals = Infinity;
        const now = performance.now();
        for (let i = 0; i < s.concurrency; i++) this.sendClosed(now);
      }
      this.armFlush();
    };
    const wait = localStart - performance.now();
    if (wait > 0) setTimeout(begin, wait);
    else begin();
  }

  /** The arrival timer fired. */
  pump = (): void => {
    this.pumpTimer = undefined;
    this.sendDue();
  };

  /** A slot freed while arrivals wait for one (a microtask after the completions). */
  pumpSoon = (): void => {
    this.pumpScheduled = false;
    this.sendDue();
  };

  /** Sends every arrival that is due, as far as connection slots allow; then sleeps until the next one. */
  sendDue(): void {
    const s = this.stage;
    if (!s || !this.stageActive || !this.open) return;
    const now = performance.now();
    const elapsed = this.ending ? s.durationMs : Math.min(now - this.stageStart, s.durationMs);
    const due = arrivalsBefore(elapsed, s.rateFrom, s.rateTo, s.durationMs, this.phase);
    while (this.nextIdx < due) {
      const slot = this.acquire();
      if (slot < 0) return; // backlog: a completion will send it
      const intended = this.stageStart + arrivalTime(this.nextIdx, s.rateFrom, s.rateTo, s.durationMs, this.phase);
      this.nextIdx++;
      this.sendOne(slot, intended, now);
    }
    if (this.nextIdx >= this.totalArrivals) return; // stage schedule exhausted
    if (this.pumpTimer !== undefined) return; // already set for a later arrival
    const nextAt = this.stageStart + arrivalTime(this.nextIdx, s.rateFrom, s.rateTo, s.durationMs, this.phase);
    // Timers have ~1 ms granularity; never busy-spin (the target may share this core).
    this.pumpTimer = setTimeout(this.pump, Math.max(1, nextAt - performance.now()));
  }

  /** Closed model: a user is ready to send at `now`; it waits for a slot if none is free. */
  sendClosed(now: number): void {
    const slot = this.acquire();
    if (slot < 0) this.waiting.push(now);
    else this.sendOne(slot, now, now);
  }

  // ---- connection slots ----

  /** A free slot, opening a connection if one is still unopened; -1 when every slot is busy. */
  acquire(): number {
    const free = this.freeSlots;
    if (free.length > 0) return free.pop()!;
    if (this.openedSlots >= this.maxSlots) return -1;
    const slot = this.openedSlots++;
    if (slot < this.task.connections) {
      if (this.fast) {
        const port = Number(this.target.port) || 80;
        this.conns.push(new H1Connection({ host: this.target.hostname.replace(/^\[|\]$/g, ''), port, pipelining: this.task.pipelining, connectTimeoutMs: Math.min(this.task.timeoutMs, 10_000) }));
      } else this.clients.push(this.newClient(slot));
    }
    this.slotRequest.push(undefined);
    return slot;
  }

  newClient(index: number): Client {
    const base = this.connector;
    const connect: typeof base = (opts, cb) =>
      base(opts, (...args) => {
        this.sockets[index] = (args[1] as Socket | null) ?? undefined;
        cb(...args);
      });
    return new Client(this.task.target, {
      pipelining: this.task.pipelining,
      // No undici timers: the sweep enforces the request timeout (see sweep()).
      headersTimeout: 0,
      bodyTimeout: 0,
      connect,
      keepAliveTimeout: 60_000,
      // The same head limit as our own parser (parse.ts), so both transports refuse the same responses.
      maxHeaderSize: 64 * 1024,
    });
  }

  uncorkAll = (): void => {
    const list = this.corked;
    for (let i = 0; i < list.length; i++) list[i].uncork();
    list.length = 0;
  };

  /** Request timeouts: one pass over the busy slots instead of a timer per request. */
  sweep = (): void => {
    if (this.inFlight === 0) return;
    const now = performance.now();
    const limit = this.task.timeoutMs;
    const reqs = this.slotRequest;
    for (let i = 0; i < reqs.length; i++) {
      const h = reqs[i];
      // An undici request not yet written is still connecting: undici's connect timeout covers it. Our own client's
      // requests are cancelled wherever they are (a connection that never opens must not pin them).
      if (h !== undefined && (h.controller !== undefined || h.conn !== undefined) && now - h.sentAt >= limit) h.timeout();
    }
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

  sendOne(slot: number, intended: number, now: number): void {
    this.inSend = true;
    const tpl = this.pickTemplate();
    // In a closed model intended is the send time by definition: no slip to record.
    if (this.open) this.slip.recordValue(clampUs((now - intended) * 1000));
    this.inFlight++;
    this.sentInWindow++;
    const h = new Handler(this, tpl, slot, this.stage?.index ?? -1, intended, now);
    this.slotRequest[slot] = h;
    let opts: DispatchOpts | undefined = tpl.dispatchOpts;
    let bytes = tpl.bytes;
    if (tpl.fn) {
      try {
        opts = resolveFn(tpl, this.seq++, this.task.workerIndex);
        if (this.fast) bytes = encodeRequest(this.target.host, opts.method, opts.path, opts.headers, opts.body);
      } catch (e) {
        opts = undefined;
        h.fail('other', `request function threw: ${(e as Error).message}`);
      }
    }
    if (opts && this.fast) {
      h.head = opts.method === 'HEAD';
      const conn = this.conns[slot % this.task.connections];
      h.conn = conn;
      conn.send(h, bytes!);
    } else if (opts) {
      const ci = slot % this.task.connections;
      if (this.batchWrites) {
        // Hold this connection's writes until the next tick: every request it gets meanwhile leaves in one writev.
        const sock = this.sockets[ci];
        if (sock !== undefined && sock.writableCorked === 0 && !sock.destroyed) {
          sock.cork();
          if (this.corked.push(sock) === 1) process.nextTick(this.uncorkAll);
        }
      }
      try {
        this.clients[ci].dispatch(opts, h);
      } catch (e) {
        h.fail('other', (e as Error).message);
      }
    }
    this.inSend = false;
  }

  /** Closed model: sends for waiting users while slots are free. */
  sendWaiting = (): void => {
    while (this.waiting.size > 0 && this.stageActive && !this.open) {
      const slot = this.acquire();
      if (slot < 0) return;
      this.sendOne(slot, this.waiting.shift(), performance.now());
    }
  };

  /** Called by a Handler when its request is over, with the time it ended. */
  completed(slot: number, stageIndex: number, now: number): void {
    this.inFlight--;
    this.slotRequest[slot] = undefined;
    if (this.stopping) {
      this.freeSlots.push(slot);
      if (this.inFlight === 0 && this.drainResolve) this.drainResolve();
      return;
    }
    if (!this.stageActive) {
      this.freeSlots.push(slot);
      return;
    }
    if (!this.open) {
      const mine = stageIndex === this.stage!.index && now < this.stageEnd;
      if (mine && this.waiting.size === 0 && !this.inSend) {
        // The user whose request ended sends again at once (closed model): the hot path.
        this.sendOne(slot, now, now);
        return;
      }
      // A request left over from an earlier stage frees its slot for this stage's users; a user behind
      // others waits its turn; a request that failed inside sendOne resends on the next turn of the loop.
      this.freeSlots.push(slot);
      if (mine) this.waiting.push(now);
      if (this.inSend) setImmediate(this.sendWaiting);
      else this.sendWaiting();
      return;
    }
    this.freeSlots.push(slot);
    // A slot freed: send from the backlog right away, outside the connection's callback. A pending timer means
    // there is no backlog (the next arrival is in the future): sending each arrival the moment a completion
    // lets it, instead of on the timer's whole milliseconds, cost about a quarter more CPU per request (bench/).
    if (this.pumpTimer === undefined && !this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(this.pumpSoon);
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
      // Arrivals due in the stage's last millisecond may still wait on the pump's timer (which, like this one,
      // has whole-millisecond resolution): send every arrival of the stage that has a free slot now.
      if (this.open && this.stageActive) {
        this.ending = true;
        this.sendDue();
        this.ending = false;
        // What is still due was never sent (every slot stayed busy): each is accounted for as unfinished.
        this.unsent(this.totalArrivals, 'never sent: every connection slot stayed busy until the stage ended');
      }
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
      // After a stop, arrivals are no longer due: the schedule ended when the stop came.
      const upTo = this.stoppedAt < boundaryLocal ? this.stoppedAt : boundaryLocal;
      const el = Math.min(Math.max(upTo - this.stageStart, 0), s.durationMs);
      const due = arrivalsBefore(el, s.rateFrom, s.rateTo, s.durationMs, this.phase);
      offered = due - this.winOfferedBase;
      this.winOfferedBase = due;
    } else {
      offered = this.sentInWindow;
    }
    const backlog = s && s.model === 'open' ? Math.max(0, this.winOfferedBase - this.nextIdx) : 0;
    // Requests still waiting: their age so far is a lower bound of their latency (one pass over the busy slots).
    const nowLocal = performance.now();
    const reqs = this.slotRequest;
    for (let i = 0; i < reqs.length; i++) {
      const h = reqs[i];
      if (h !== undefined && !h.done) h.tpl.rec.pending.recordValue(clampUs((nowLocal - h.intended) * 1000));
    }
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
  /** When the stop came (local ms); Infinity while running. */
  stoppedAt = Infinity;

  /**
   * Arrivals of the current open stage from `nextIdx` up to (not including) `upTo` that will never be sent:
   * each is recorded once as `unfinished`, its age since its intended send a lower bound of its latency.
   */
  unsent(upTo: number, why: string): void {
    const s = this.stage;
    if (!s || s.model !== 'open') return;
    const now = performance.now();
    for (; this.nextIdx < upTo; this.nextIdx++) {
      const intended = this.stageStart + arrivalTime(this.nextIdx, s.rateFrom, s.rateTo, s.durationMs, this.phase);
      const rec = this.pickTemplate().rec;
      rec.latency.recordValue(clampUs((now - intended) * 1000));
      rec.requests++;
      rec.errors++;
      rec.byKind[UNFINISHED]++;
      if (rec.examples[UNFINISHED] === undefined) rec.examples[UNFINISHED] = why;
    }
  }

  async stop(graceMs: number): Promise<void> {
    const now = performance.now();
    if (this.stageActive && this.open && this.stage) {
      // Arrivals already due but waiting for a slot will not be sent now.
      const s = this.stage;
      const due = arrivalsBefore(Math.min(now - this.stageStart, s.durationMs), s.rateFrom, s.rateTo, s.durationMs, this.phase);
      this.unsent(due, 'never sent: the run stopped while it waited for a connection slot');
    }
    this.stoppedAt = now;
    this.stopping = true;
    this.stageActive = false;
    this.waiting.clear();
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drainResolve = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    clearInterval(this.sweepTimer);
    // Requests still waiting after the grace period are accounted for, once, as unfinished.
    for (const h of this.slotRequest) if (h !== undefined && !h.done) h.unfinished();
    // Whatever completed since the last boundary goes into a final window.
    this.flush(performance.now(), true);
    this.lag.disable();
    for (const c of this.clients) c.destroy().catch(() => {});
    for (const c of this.conns) c.destroy();
    this.send({ type: 'done', workerIndex: this.task.workerIndex });
    this.onDone();
  }
}

function resolveFn(tpl: Template, seq: number, worker: number): DispatchOpts {
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

/** Raised into undici when the sweep finds a request past its timeout. */
class RequestTimeoutError extends Error {}

/** The handler of one request (for undici's dispatch or an H1Connection): classifies the outcome and records it. */
class Handler {
  readonly w: LoadWorker;
  readonly tpl: Template;
  readonly slot: number;
  readonly stageIndex: number;
  readonly intended: number;
  readonly sentAt: number;
  /** Set once the request is written to a connection (onRequestStart): what can cancel it. */
  controller: { abort(reason: Error): void } | H1Connection | undefined = undefined;
  /** Our own client's connection, set before the request is handed to it (undici's requests use `controller`). */
  conn: H1Connection | undefined = undefined;
  status = 0;
  body = '';
  /** Decodes the body across packets (a UTF-8 character may be split between two); only for body assertions. */
  decoder: StringDecoder | undefined = undefined;
  done = false;
  head = false;
  readonly wantsBody: boolean;
  constructor(w: LoadWorker, tpl: Template, slot: number, stageIndex: number, intended: number, sentAt: number) {
    this.w = w;
    this.tpl = tpl;
    this.slot = slot;
    this.stageIndex = stageIndex;
    this.intended = intended;
    this.sentAt = sentAt;
    this.wantsBody = tpl.keepBody;
  }
  onRequestStart(controller: { abort(reason: Error): void } | H1Connection): void {
    this.controller = controller;
  }
  onResponseStart(_c: unknown, statusCode: number): void {
    this.status = statusCode;
  }
  onResponseData(_c: unknown, chunk: Buffer): void {
    // Bodies are consumed (and dropped) unless an assertion needs them.
    if (this.tpl.keepBody && this.body.length < 1 << 20) this.body += (this.decoder ??= new StringDecoder('utf8')).write(chunk);
  }
  onResponseEnd(): void {
    if (this.done) return;
    const st = this.status;
    if (st < 100) return this.fail('other', 'no response status');
    const wire = this.tpl.wire;
    const expect = wire.expectStatus;
    if (expect === undefined ? st < 400 : expect.includes(st)) {
      if (!this.tpl.keepBody || this.body.includes(wire.bodyIncludes!)) return this.record(undefined, '');
      return this.record('mismatch', `body did not include ${JSON.stringify(wire.bodyIncludes)}`);
    }
    const kind: ErrorKind = st >= 500 ? 'http_5xx' : st >= 400 && !expect ? 'http_4xx' : 'unexpected_status';
    this.record(kind, `HTTP ${st} from ${wire.method} ${wire.path}`);
  }
  onResponseError(_c: unknown, err: Error & { code?: string; cause?: { code?: string } }): void {
    if (this.done) return;
    // At the stop, requests still waiting were recorded as unfinished before the connections were destroyed.
    if (this.w.stopping && (err.name === 'ClientDestroyedError' || err.name === 'AbortError')) return this.unfinished();
    if (err instanceof RequestTimeoutError) this.fail('timeout', err.message);
    else this.fail(classify(err), `${err.code ?? err.name}: ${err.message}`);
  }
  /** The sweep found this request past its timeout: abort it in undici (which closes its connection and calls onResponseError). */
  timeout(): void {
    if (this.done) return;
    const err = new RequestTimeoutError(`no complete response within ${this.w.task.timeoutMs} ms (${this.tpl.wire.method} ${this.tpl.wire.path})`);
    if (this.conn !== undefined) this.conn.cancel(this, err);
    else (this.controller as { abort(reason: Error): void } | undefined)?.abort(err);
    if (!this.done) this.fail('timeout', err.message);
  }
  fail(kind: ErrorKind, message: string): void {
    if (this.done) return;
    this.record(kind, message);
  }
  /** Still waiting when the run ended: its age so far is a lower bound of its latency. */
  unfinished(): void {
    if (this.done) return;
    this.record('unfinished', `no complete response when the run ended (${this.tpl.wire.method} ${this.tpl.wire.path}, waited ${Math.round(performance.now() - this.intended)} ms)`);
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
    this.w.completed(this.slot, this.stageIndex, now);
  }
}
