/**
 * A lean HTTP/1.1 client connection for plain-http targets: the load worker's
 * fast path. One TCP connection, requests pre-encoded as bytes, responses
 * parsed in place by the pure parser (parse.ts), pipelining in order, and
 * writes made in one turn of the event loop leaving together. It calls the
 * same handler methods undici's `dispatch` does, so the worker treats both
 * alike; https targets keep using undici.
 *
 * It never sends a request twice. A request whose connection ends before its
 * response is complete fails with what happened on the wire: `reset` (RST),
 * `closed` (the server closed, or announced its close before answering it),
 * `malformed` (the response could not be parsed). A load tester reports what
 * the target did; it does not paper over it with a retry.
 *
 * Why not undici here: per request it builds and validates a Request, parses
 * every header into strings and objects and keeps timers; on one core that is
 * about half of the worker's time (bench/README.md has the profile).
 */
import net from 'node:net';
import { ResponseParser, EOF_TRUNCATED, ANY, HEAD, NONE, type ResponseSink } from './parse.ts';

/** What the connection needs from the worker's request handler. */
export interface H1Handler {
  /** The request is on the wire; `conn.cancel(this, err)` cancels it. */
  onRequestStart(conn: H1Connection): void;
  onResponseStart(controller: null, statusCode: number): void;
  onResponseData(controller: null, chunk: Buffer): void;
  onResponseEnd(): void;
  onResponseError(controller: null, err: Error): void;
  /** Only assertions need the body: other bodies are skipped without a copy. */
  readonly wantsBody: boolean;
  /** A HEAD request: its response has no body whatever its headers say. */
  readonly head: boolean;
  /** performance.now() when its bytes were handed to the socket; 0 when that was the moment it was sent. */
  writtenAt: number;
  /** performance.now() of the packet holding its response's first byte; 0 until then. */
  firstByteAt: number;
  /** A new connection was opened for this request (it was first in line for it), in `ms`. */
  onConnected(ms: number): void;
}

export interface H1Options {
  host: string;
  port: number;
  pipelining: number;
  connectTimeoutMs: number;
}

/** Error codes of this client (Node's own socket errors already carry one). */
export const CLOSED = 'FL_CLOSED';
export const MALFORMED = 'FL_MALFORMED';

/** An error with the code the worker classifies by. */
export function coded(message: string, code: string, name = 'Error'): Error {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  e.name = name;
  return e;
}

/** Encodes a request once (static requests are encoded when the worker starts). */
export function encodeRequest(hostHeader: string, method: string, path: string, headers: Record<string, string>, body: string | Buffer | null): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let hasHost = false;
  for (const k in headers) {
    const v = String(headers[k]);
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`header ${JSON.stringify(k)} contains a line break`);
    const lower = k.toLowerCase();
    if (lower === 'host') hasHost = true;
    // The body's length is ours to state.
    if (lower === 'content-length' || lower === 'transfer-encoding') continue;
    head += `${k}: ${v}\r\n`;
  }
  if (/[\s]/.test(path)) throw new Error(`request path ${JSON.stringify(path)} contains whitespace`);
  if (!hasHost) head = head.replace('\r\n', `\r\nhost: ${hostHeader}\r\n`);
  const payload = body === null ? null : typeof body === 'string' ? Buffer.from(body) : body;
  if (payload !== null || method === 'POST' || method === 'PUT' || method === 'PATCH') head += `content-length: ${payload?.length ?? 0}\r\n`;
  head += '\r\n';
  return payload && payload.length ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : Buffer.from(head, 'latin1');
}

let shared: Buffer | undefined;
/** The read buffer of this thread's connections: packets are parsed as they arrive, so one serves them all. */
function readBuffer(): Buffer {
  return (shared ??= Buffer.allocUnsafe(64 * 1024));
}

/** A FIFO of handlers as a growable ring: memory stays at the deepest pipeline seen, whatever the request count. */
class Ring {
  buf: (H1Handler | undefined)[] = new Array(4);
  head = 0;
  size = 0;
  push(h: H1Handler): void {
    if (this.size === this.buf.length) {
      const next = new Array<H1Handler | undefined>(this.buf.length * 2);
      for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) % this.buf.length];
      this.buf = next;
      this.head = 0;
    }
    this.buf[(this.head + this.size) % this.buf.length] = h;
    this.size++;
  }
  peek(): H1Handler | undefined {
    return this.size > 0 ? this.buf[this.head] : undefined;
  }
  shift(): H1Handler | undefined {
    if (this.size === 0) return undefined;
    const h = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.size--;
    return h;
  }
  indexOf(h: H1Handler): number {
    for (let i = 0; i < this.size; i++) if (this.buf[(this.head + i) % this.buf.length] === h) return i;
    return -1;
  }
  /** Empties the ring, returning what it held in order. */
  drain(): H1Handler[] {
    const out: H1Handler[] = [];
    while (this.size > 0) out.push(this.shift()!);
    this.head = 0;
    return out;
  }
}

export class H1Connection implements ResponseSink {
  readonly opts: H1Options;
  socket: net.Socket | undefined;
  connected = false;
  /** Written, awaiting their responses, oldest first. */
  readonly inflight = new Ring();
  /** Not yet written: waiting for the connection to open. */
  pending: { h: H1Handler; bytes: Buffer }[] = [];
  corked = false;
  destroyed = false;
  connectTimer: NodeJS.Timeout | undefined;
  /** When the current connection attempt began, and when the packet being parsed arrived (performance.now()). */
  connectStartedAt = 0;
  chunkAt = 0;
  /** One parser per connection: a callback may open the next connection while this one's parser is mid-packet. */
  parser: ResponseParser = new ResponseParser(this);

  constructor(opts: H1Options) {
    this.opts = opts;
  }

  /** Requests written and not yet answered, plus those waiting for the connection. */
  get size(): number {
    return this.inflight.size + this.pending.length;
  }

  send(h: H1Handler, bytes: Buffer): void {
    if (this.destroyed) {
      h.onResponseError(null, coded('the connection was destroyed', 'UND_ERR_DESTROYED', 'ClientDestroyedError'));
      return;
    }
    if (!this.connected) {
      this.pending.push({ h, bytes });
      if (this.socket === undefined) this.connect();
      return;
    }
    this.write(h, bytes, 0);
  }

  private write(h: H1Handler, bytes: Buffer, at: number): void {
    const s = this.socket!;
    if (this.opts.pipelining > 1 && !this.corked) {
      // Requests this connection gets in the same turn of the event loop leave in one writev.
      this.corked = true;
      s.cork();
      process.nextTick(this.uncork);
    }
    this.inflight.push(h);
    h.writtenAt = at;
    s.write(bytes);
    h.onRequestStart(this);
  }

  private uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  private connect(): void {
    const parser = new ResponseParser(this);
    this.parser = parser;
    // Packets are read into one buffer per worker thread (Node's `onread`): no Buffer per packet and no stream
    // machinery on the hot path. The parser copies the little it keeps across packets (an unfinished head or line).
    const s: net.Socket = net.connect({
      host: this.opts.host,
      port: this.opts.port,
      noDelay: true,
      onread: { buffer: readBuffer(), callback: (n: number, buf: Uint8Array): boolean => this.onPacket(s, parser, (buf as Buffer).subarray(0, n)) },
    });
    this.connectStartedAt = performance.now();
    this.socket = s;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = undefined;
      if (!this.connected && this.socket === s) this.fail(s, coded(`connect timeout (${this.opts.connectTimeoutMs} ms) to ${this.opts.host}:${this.opts.port}`, 'UND_ERR_CONNECT_TIMEOUT', 'ConnectTimeoutError'));
    }, this.opts.connectTimeoutMs);
    s.once('connect', () => {
      if (this.socket !== s) return;
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      this.connected = true;
      const now = performance.now();
      const waiting = this.pending;
      this.pending = [];
      if (waiting.length > 0) waiting[0].h.onConnected(now - this.connectStartedAt);
      for (const p of waiting) this.write(p.h, p.bytes, now);
    });
    s.on('error', (err) => {
      if (this.socket === s) this.fail(s, err);
    });
    s.on('end', () => {
      if (this.socket !== s) return;
      const was = parser.eof();
      if (this.socket !== s) return;
      this.fail(s, coded(was === EOF_TRUNCATED ? 'the server closed the connection in the middle of a response' : 'the server closed the connection before answering', CLOSED, 'SocketError'));
    });
    s.on('close', () => {
      if (this.socket === s) this.fail(s, coded('the connection closed before a complete response', CLOSED, 'SocketError'));
    });
  }

  /** A packet arrived on `s` (a view into the shared read buffer, valid during this call only). */
  private onPacket(s: net.Socket, parser: ResponseParser, chunk: Buffer): boolean {
    if (this.socket !== s) return true;
    this.chunkAt = performance.now();
    if (parser.feed(chunk) || this.socket !== s) return true;
    const why = parser.error;
    if (why !== undefined) this.fail(s, coded(`invalid HTTP response: ${why}`, MALFORMED, 'HTTPParserError'));
    return true;
  }

  /**
   * The connection is over: every request on it fails with `err`, counted once and
   * never sent again. A request waiting for this connection to open shares its fate.
   */
  private fail(s: net.Socket, err: Error): void {
    if (this.socket !== s) return;
    this.socket = undefined;
    this.connected = false;
    this.corked = false;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    s.destroy();
    const written = this.inflight.drain();
    const waiting = this.pending;
    this.pending = [];
    for (let i = 0; i < written.length; i++) written[i].onResponseError(null, err);
    for (const p of waiting) p.h.onResponseError(null, err);
  }

  /**
   * Cancels one request (its timeout): it fails with `err`. If it is on the wire the
   * connection is closed, as its answer could still come and answers come in order;
   * the others written on it fail as `closed` (they are not sent again).
   */
  cancel(h: H1Handler, err: Error): void {
    const pi = this.pending.findIndex((p) => p.h === h);
    if (pi >= 0) {
      this.pending.splice(pi, 1);
      h.onResponseError(null, err);
      if (this.pending.length === 0 && !this.connected && this.socket) {
        // Nothing else waits for this connection attempt.
        const s = this.socket;
        this.socket = undefined;
        if (this.connectTimer) clearTimeout(this.connectTimer);
        this.connectTimer = undefined;
        s.destroy();
      }
      return;
    }
    if (this.inflight.indexOf(h) < 0 || !this.socket) return;
    const s = this.socket;
    const written = this.inflight.drain();
    const waiting = this.pending;
    this.pending = [];
    this.socket = undefined;
    this.connected = false;
    this.corked = false;
    s.destroy();
    h.onResponseError(null, err);
    const behind = coded('faultline closed the connection: a request ahead of this one on it timed out (answers come in order)', CLOSED, 'SocketError');
    for (const o of written) if (o !== h) o.onResponseError(null, behind);
    for (const p of waiting) p.h.onResponseError(null, behind);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const err = coded('the client was destroyed', 'UND_ERR_DESTROYED', 'ClientDestroyedError');
    const s = this.socket;
    if (s) this.fail(s, err);
    for (const p of this.pending) p.h.onResponseError(null, err);
    this.pending = [];
  }

  // ---- the parser's sink ----

  awaiting(): number {
    const h = this.inflight.peek();
    return h === undefined ? NONE : h.head ? HEAD : ANY;
  }

  onResponseBegin(): void {
    this.inflight.peek()!.firstByteAt = this.chunkAt;
  }

  onStatus(status: number): void {
    this.inflight.peek()!.onResponseStart(null, status);
  }

  wantsBody(): boolean {
    return this.inflight.peek()!.wantsBody;
  }

  onBody(chunk: Buffer): void {
    this.inflight.peek()!.onResponseData(null, chunk);
  }

  onComplete(close: boolean): void {
    const h = this.inflight.shift()!;
    // The server announced its close: the requests behind this one will not be answered. The connection is given up
    // before the handler runs, so that a request it sends at once (closed model) goes to a new connection.
    if (close && this.socket) this.fail(this.socket, coded('the server announced it closes the connection (Connection: close) before answering this request', CLOSED, 'SocketError'));
    h.onResponseEnd();
  }
}
