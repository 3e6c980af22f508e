/**
 * A load worker: runs inside a Piscina thread for the whole run and does four
 * jobs, each in its own module (as Vegeta splits them): *when* — the pacer
 * (pacer.ts) gives an open-model stage's due arrivals and their intended send
 * times; *slots* — connection slots and timeouts (slots.ts); *send* — a
 * Transport (transport.ts: faultline's own HTTP/1.1 client, or undici);
 * *record* — one Recorder per request name (recorder.ts), streamed as one
 * window per tick to the coordinator over the MessagePort it was given. It
 * never decides verdicts.
 *
 * Open model (default): arrivals follow the stage's schedule, not the previous
 * response. Arrivals that are due while every connection slot is busy wait in
 * a backlog that is only an index range (memory stays flat), and each request's
 * latency is measured from its *intended* send time (coordinated omission
 * corrected, as wrk2 does); service time from the actual send is kept beside it.
 *
 * Every due arrival is accounted for exactly once: answered, failed, or — when
 * its stage or the run ends first — `unfinished`, with its age as a lower bound
 * of its latency. Nothing is sent twice.
 */
import { performance, monitorEventLoopDelay, type EventLoopUtilization } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { Histogram } from 'hdr-histogram-js';
import { initHistograms, newHistogram, clampUs } from '../metrics/histogram.ts';
import type { FromWorker, ToWorker, WireStage, WireStats, WireWindow, WorkerTask } from './messages.ts';
import { segmentPhase } from './schedule.ts';
import { Pacer } from './pacer.ts';
import { Slots } from './slots.ts';
import { Recorder } from './recorder.ts';
import { Request, type Owner, type Template } from './request.ts';
import type { RequestSpec, Transport } from './transport.ts';
import { TRANSPORTS, transportFor } from './transports/index.ts';
import { isIdempotent } from './retry.ts';
import type { ErrorKind } from '../timeline.ts';

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

class LoadWorker implements Owner {
  readonly task: WorkerTask;
  readonly send: (m: FromWorker) => void;
  readonly timeoutMs: number;
  readonly errors4xx: boolean;
  readonly retries: number;
  onDone: () => void = () => {};
  templates: Template[] = [];
  recorders: Recorder[] = [];
  /** Smooth weighted round-robin state (nginx's algorithm): exact proportions, no randomness. */
  wrrCurrent: number[] = [];
  wrrTotal = 0;
  readonly transport: Transport;
  readonly slots: Slots<Request>;
  sweepTimer: NodeJS.Timeout | undefined;
  seq = 0;
  /** True while sendOne runs: a request that fails at once must not resend from inside it (closed model). */
  inSend = false;
  // Stage state, in local performance.now() ms.
  stage: WireStage | undefined;
  /** The open-model stage's schedule. */
  pacer: Pacer | undefined;
  stageStart = 0;
  stageEnd = 0;
  open = true;
  /** Arrival phase offset in [0,1): this worker's segment of the schedule (arrivals i ≡ segment.index mod segment.count). */
  phase: number;
  /** Closed model: users ready to send while every slot is busy. */
  waiting = new WaitingRing(64);
  stageActive = false;
  /** Set while the stage's final boundary sends what is left of its schedule. */
  ending = false;
  stopping = false;
  /** When the stop came (local ms); Infinity while running. */
  stoppedAt = Infinity;
  drainResolve: (() => void) | undefined;
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
    this.timeoutMs = task.timeoutMs;
    this.errors4xx = task.errors4xx;
    this.retries = task.retries ?? 0;
    this.phase = segmentPhase(task.segment);
    this.slots = new Slots<Request>(task.connections, task.pipelining);
    const target = new URL(task.target);
    this.transport = TRANSPORTS[transportFor(target)]({ target, connections: task.connections, pipelining: task.pipelining, connectTimeoutMs: Math.min(task.timeoutMs, 10_000), tls: task.tls });
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
      const tpl: Template = { rec, wire: r, prepared: undefined, keepBody: r.bodyIncludes !== undefined };
      if (r.fnIndex !== undefined) {
        const scen = (mod?.default ?? mod) as { requests?: unknown[] } | undefined;
        const entry = scen?.requests?.[r.fnIndex] as { request?: unknown } | ((...a: unknown[]) => unknown) | undefined;
        const fn = typeof entry === 'function' ? entry : (entry as { request?: unknown } | undefined)?.request;
        if (typeof fn !== 'function') throw new Error(`requests[${r.fnIndex}] is not a function in ${t.scenarioFile}`);
        tpl.fn = fn as Template['fn'];
      } else {
        tpl.prepared = this.transport.prepare({ method: r.method, path: r.path, headers: r.headers, body: r.body ?? null });
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

  // ---- when ----

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
      this.pacer = this.open ? new Pacer(s.rateFrom, s.rateTo, s.durationMs, this.phase) : undefined;
      // Windows begin with the stage (completions during a gap between stages count in its first window).
      this.winStart = s.startAt;
      this.stageStart = localStart;
      this.stageEnd = localStart + s.durationMs;
      this.winSeq = 0;
      this.winOfferedBase = 0;
      this.waiting.clear();
      // The window's event-loop figures start with it too (not at start-up, while the worker waited for the stage).
      this.elu = performance.eventLoopUtilization();
      this.lag.reset();
      this.slip.reset();
      this.stageActive = true;
      if (this.open) this.pump();
      else {
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
    const p = this.pacer;
    if (p === undefined || !this.stageActive) return;
    const now = performance.now();
    const due = p.dueBy(this.ending ? p.durationMs : now - this.stageStart);
    while (p.next < due) {
      const slot = this.slots.acquire();
      if (slot < 0) return; // backlog: a completion will send it
      const intended = this.stageStart + p.at(p.next);
      p.next++;
      this.sendOne(slot, intended, now);
    }
    if (p.next >= p.total) return; // stage schedule exhausted
    if (this.pumpTimer !== undefined) return; // already set for a later arrival
    const nextAt = this.stageStart + p.at(p.next);
    // Timers have ~1 ms granularity; never busy-spin (the target may share this core).
    this.pumpTimer = setTimeout(this.pump, Math.max(1, nextAt - performance.now()));
  }

  /**
   * Arrivals of the current open stage from the pacer's next up to (not including) `upTo` that will never be
   * sent: each is recorded once as `unfinished`, its age since its intended send a lower bound of its latency.
   */
  unsent(upTo: number, why: string): void {
    const p = this.pacer;
    if (p === undefined) return;
    const now = performance.now();
    for (; p.next < upTo; p.next++) this.pickTemplate().rec.error('unfinished', why, now - (this.stageStart + p.at(p.next)));
  }

  /** Closed model: a user is ready to send at `now`; it waits for a slot if none is free. */
  sendClosed(now: number): void {
    const slot = this.slots.acquire();
    if (slot < 0) this.waiting.push(now);
    else this.sendOne(slot, now, now);
  }

  /** Closed model: sends for waiting users while slots are free. */
  sendWaiting = (): void => {
    while (this.waiting.size > 0 && this.stageActive && !this.open) {
      const slot = this.slots.acquire();
      if (slot < 0) return;
      this.sendOne(slot, this.waiting.shift(), performance.now());
    }
  };

  // ---- slots ----

  /** Request timeouts: one pass over the busy slots instead of a timer per request. */
  sweep = (): void => {
    this.slots.sweep(performance.now(), this.task.timeoutMs);
  };

  /** Called by a Request when it is over, with the time it ended. */
  completed(slot: number, stageIndex: number, now: number): void {
    this.slots.release(slot);
    if (this.stopping) {
      if (this.slots.inFlight === 0 && this.drainResolve) this.drainResolve();
      return;
    }
    if (!this.stageActive) return;
    if (!this.open) {
      const mine = stageIndex === this.stage!.index && now < this.stageEnd;
      if (mine && this.waiting.size === 0 && !this.inSend) {
        // The user whose request ended sends again at once (closed model): the hot path.
        this.sendOne(this.slots.acquire(), now, now);
        return;
      }
      // A request left over from an earlier stage frees its slot for this stage's users; a user behind
      // others waits its turn; a request that failed inside sendOne resends on the next turn of the loop.
      if (mine) this.waiting.push(now);
      if (this.inSend) setImmediate(this.sendWaiting);
      else this.sendWaiting();
      return;
    }
    // A slot freed: send from the backlog right away, outside the connection's callback. A pending timer means
    // there is no backlog (the next arrival is in the future): sending each arrival the moment a completion
    // lets it, instead of on the timer's whole milliseconds, cost about a quarter more CPU per request (bench/).
    if (this.pumpTimer === undefined && !this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(this.pumpSoon);
    }
  }

  // ---- send ----

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
    this.sentInWindow++;
    const r = new Request(this, tpl, slot, this.stage?.index ?? -1, intended, now, this.open);
    this.slots.take(slot, r);
    let prepared = tpl.prepared;
    let method = tpl.wire.method;
    if (tpl.fn) {
      try {
        const spec = resolveFn(tpl, this.seq++, this.task.workerIndex);
        method = spec.method;
        prepared = this.transport.prepare(spec);
      } catch (e) {
        prepared = undefined;
        r.fail('other', `request function threw: ${(e as Error).message}`);
      }
    }
    if (prepared !== undefined) {
      r.head = method === 'HEAD';
      if (this.retries > 0 && isIdempotent(method)) {
        r.retriesLeft = this.retries;
        r.prepared = prepared;
      }
      try {
        this.transport.send(slot % this.task.connections, r, prepared);
      } catch (e) {
        r.fail('other', (e as Error).message);
      }
    }
    this.inSend = false;
  }

  /**
   * Opt-in retry: `old`'s attempt failed at the connection. The attempt is recorded as an error of its kind
   * (never hidden) and counted as a retry; the request is sent again on the same slot, once the transport's
   * callback has returned. Its latency still runs from the original intended send (coordinated omission stays
   * corrected); its wait for a slot was the first attempt's.
   */
  retry(old: Request, kind: ErrorKind, message: string): void {
    const rec = old.tpl.rec;
    rec.retried(kind, message);
    if (old.paced) rec.wait.recordValue(clampUs((old.sentAt - old.intended) * 1000));
    const r = new Request(this, old.tpl, old.slot, old.stageIndex, old.intended, performance.now(), false);
    r.head = old.head;
    r.retriesLeft = old.retriesLeft - 1;
    r.prepared = old.prepared;
    this.slots.replace(old.slot, r);
    queueMicrotask(() => {
      if (r.done) return;
      try {
        this.transport.send(r.slot % this.task.connections, r, r.prepared);
      } catch (e) {
        r.fail('other', (e as Error).message);
      }
    });
  }

  // ---- record ----

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
      if (this.pacer && this.stageActive) {
        this.ending = true;
        this.sendDue();
        this.ending = false;
        // What is still due was never sent (every slot stayed busy): each is accounted for as unfinished.
        this.unsent(this.pacer.total, 'never sent: every connection slot stayed busy until the stage ended');
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
    const p = this.pacer;
    const stageIdx = s?.index ?? -1;
    let offered: number;
    if (p !== undefined) {
      // After a stop, arrivals are no longer due: the schedule ended when the stop came.
      const upTo = this.stoppedAt < boundaryLocal ? this.stoppedAt : boundaryLocal;
      const due = p.dueBy(Math.max(upTo - this.stageStart, 0));
      offered = due - this.winOfferedBase;
      this.winOfferedBase = due;
    } else {
      offered = this.sentInWindow;
    }
    const backlog = p !== undefined ? Math.max(0, this.winOfferedBase - p.next) : 0;
    // Requests still waiting: their age so far is a lower bound of their latency (one pass over the busy slots).
    const nowLocal = performance.now();
    const reqs = this.slots.busy;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i];
      if (r !== undefined && !r.done) r.tpl.rec.pending.recordValue(clampUs((nowLocal - r.intended) * 1000));
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
      inFlight: this.slots.inFlight,
    };
    this.slip.reset();
    this.lag.reset();
    this.sentInWindow = 0;
    this.winStart = end;
    this.winSeq++;
    this.send({ type: 'window', workerIndex: this.task.workerIndex, window: win, final });
  }

  async stop(graceMs: number): Promise<void> {
    const now = performance.now();
    if (this.stageActive && this.pacer) {
      // Arrivals already due but waiting for a slot will not be sent now.
      this.unsent(this.pacer.dueBy(now - this.stageStart), 'never sent: the run stopped while it waited for a connection slot');
    }
    this.stoppedAt = now;
    this.stopping = true;
    this.stageActive = false;
    this.waiting.clear();
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.slots.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drainResolve = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    clearInterval(this.sweepTimer);
    // Requests still waiting after the grace period are accounted for, once, as unfinished.
    for (const r of this.slots.busy) if (r !== undefined && !r.done) r.unfinished();
    // Whatever completed since the last boundary goes into a final window.
    this.flush(performance.now(), true);
    this.lag.disable();
    this.transport.destroy();
    this.send({ type: 'done', workerIndex: this.task.workerIndex });
    this.onDone();
  }
}

function resolveFn(tpl: Template, seq: number, worker: number): RequestSpec {
  const out = tpl.fn!({ seq, worker });
  const headers = { ...tpl.wire.headers, ...(out.headers ?? {}) };
  let body: string | null = tpl.wire.body ?? null;
  if (out.json !== undefined) {
    body = JSON.stringify(out.json);
    headers['content-type'] ??= 'application/json';
  } else if (out.body !== undefined) {
    body = typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
  }
  return { method: out.method ?? tpl.wire.method, path: out.path ?? tpl.wire.path, headers, body };
}
