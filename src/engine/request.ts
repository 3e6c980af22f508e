/**
 * One request from send to outcome: it receives its transport's callbacks,
 * classifies what happened (status, body assertion, error kind) and records it
 * once — latency from the intended send, service time, and the phases.
 */
import { StringDecoder } from 'node:string_decoder';
import { clampUs } from '../metrics/histogram.ts';
import type { ErrorKind } from '../timeline.ts';
import type { WireRequest } from './messages.ts';
import type { Recorder } from './recorder.ts';
import { KIND_INDEX } from './recorder.ts';
import type { Exchange, Transport } from './transport.ts';
import type { SlotRequest } from './slots.ts';
import { classify } from './classify.ts';
import { RETRYABLE } from './retry.ts';

const HTTP_4XX = KIND_INDEX.http_4xx;

/** What a request needs from the worker that sent it. */
export interface Owner {
  readonly transport: Transport;
  readonly timeoutMs: number;
  readonly errors4xx: boolean;
  readonly stopping: boolean;
  /** `r`'s attempt failed at the connection with `kind`: record the attempt and send it again. */
  retry(r: Request, kind: ErrorKind, message: string): void;
  /** The request is over at `now`: its slot is free. */
  completed(slot: number, stageIndex: number, now: number): void;
}

/** A resolved request template (static, or a function evaluated per request). */
export interface Template {
  rec: Recorder;
  wire: WireRequest;
  fn?: (ctx: { seq: number; worker: number }) => { method?: string; path?: string; headers?: Record<string, string>; body?: unknown; json?: unknown };
  /** The request in its transport's form, made once (static requests). */
  prepared: unknown;
  /** Only assertions on the body need its bytes; every other body is consumed and dropped. */
  keepBody: boolean;
}

/** Raised into the transport when the sweep finds a request past its timeout. */
class RequestTimeoutError extends Error {}

export class Request implements Exchange, SlotRequest {
  readonly w: Owner;
  readonly tpl: Template;
  readonly slot: number;
  readonly stageIndex: number;
  readonly intended: number;
  readonly sentAt: number;
  handle: unknown = undefined;
  writtenAt = 0;
  firstByteAt = 0;
  status = 0;
  body = '';
  /** Decodes the body across packets (a UTF-8 character may be split between two); only for body assertions. */
  decoder: StringDecoder | undefined = undefined;
  done = false;
  head = false;
  readonly wantsBody: boolean;
  /** Open model: the time it waited for a slot is a phase of its own. */
  readonly paced: boolean;
  /** Opt-in retries: how many more times it may be sent (0 unless asked for and idempotent). */
  retriesLeft = 0;
  /** What was sent, kept only when it may be sent again. */
  prepared: unknown = undefined;

  constructor(w: Owner, tpl: Template, slot: number, stageIndex: number, intended: number, sentAt: number, paced: boolean) {
    this.w = w;
    this.tpl = tpl;
    this.slot = slot;
    this.stageIndex = stageIndex;
    this.intended = intended;
    this.sentAt = sentAt;
    this.wantsBody = tpl.keepBody;
    this.paced = paced;
  }
  onRequestStart(handle: unknown): void {
    this.handle = handle;
  }
  onConnected(ms: number): void {
    this.tpl.rec.connect.recordValue(clampUs(ms * 1000));
  }
  onResponseStart(_c: unknown, statusCode: number): void {
    this.status = statusCode;
    // undici tells no first byte: its headers' arrival stands for it (our own client stamped the packet already).
    if (this.firstByteAt === 0) this.firstByteAt = performance.now();
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
    if (err instanceof RequestTimeoutError) return this.fail('timeout', err.message);
    const kind = classify(err);
    const message = `${err.code ?? err.name}: ${err.message}`;
    if (this.retriesLeft > 0 && RETRYABLE.has(kind) && !this.w.stopping) {
      this.done = true;
      return this.w.retry(this, kind, message);
    }
    this.fail(kind, message);
  }
  cancellable(): boolean {
    return this.w.transport.cancellable(this);
  }
  /** The sweep found this request past its timeout: cancel it (its transport closes its connection and fails it). */
  timeout(): void {
    if (this.done) return;
    const err = new RequestTimeoutError(`no complete response within ${this.w.timeoutMs} ms (${this.tpl.wire.method} ${this.tpl.wire.path})`);
    this.w.transport.cancel(this, err);
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
    if (kind === 'timeout' && latencyMs < this.w.timeoutMs) latencyMs = this.w.timeoutMs;
    rec.latency.recordValue(clampUs(latencyMs * 1000));
    rec.service.recordValue(clampUs((now - this.sentAt) * 1000));
    if (this.paced) rec.wait.recordValue(clampUs((this.sentAt - this.intended) * 1000));
    const first = this.firstByteAt;
    if (first > 0) {
      const written = this.writtenAt > 0 ? this.writtenAt : this.sentAt;
      rec.ttfb.recordValue(clampUs((first - written) * 1000));
      if (kind === undefined || this.status > 0) rec.transfer.recordValue(clampUs((now - first) * 1000));
    }
    rec.requests++;
    if (kind !== undefined) {
      const i = KIND_INDEX[kind];
      rec.byKind[i]++;
      if (i !== HTTP_4XX || this.w.errors4xx) rec.errors++;
      if (rec.examples[i] === undefined) rec.examples[i] = message.slice(0, 300);
    }
    this.w.completed(this.slot, this.stageIndex, now);
  }
}
