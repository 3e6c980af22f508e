/**
 * A lean HTTP/1.1 client connection for plain-http targets: the load worker's
 * fast path. One TCP connection, requests pre-encoded as bytes, responses
 * parsed in place (status, Content-Length, chunked, Connection: close),
 * pipelining in order, and writes made in one turn of the event loop leaving
 * together. It calls the same handler methods undici's `dispatch` does, so the
 * worker treats both alike; https targets keep using undici.
 *
 * Why not undici here: per request it builds and validates a Request, parses
 * every header into strings and objects and keeps timers; on one core that is
 * about half of the worker's time (bench/README.md has the profile).
 */
import net from 'node:net';

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
  /** Set when the request was re-sent once after the server closed a connection before answering it. */
  retried: boolean;
}

export interface H1Options {
  host: string;
  port: number;
  pipelining: number;
  connectTimeoutMs: number;
}

/** An error with the code the worker classifies by (Node's own socket errors already carry one). */
function coded(message: string, code: string, name = 'Error'): Error {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  e.name = name;
  return e;
}

// Parser states.
const S_HEAD = 0;
const S_BODY = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_DATA = 3;
const S_CHUNK_CRLF = 4;
const S_TRAILERS = 5;
const S_UNTIL_CLOSE = 6;

const MAX_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

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

/** Case-insensitive match of an ASCII header name (given in lower case, with its colon) at `at`. */
function nameIs(b: Buffer, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((b[at + i] | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** The header value from `at` to the end of its line, lower-cased (short values only: Connection, Transfer-Encoding). */
function valueAt(b: Buffer, at: number, end: number): string {
  return b.toString('latin1', at, end).trim().toLowerCase();
}

export class H1Connection {
  readonly opts: H1Options;
  socket: net.Socket | undefined;
  connected = false;
  /** Written, awaiting their responses, oldest first (index `first` onwards). */
  inflight: (H1Handler | undefined)[] = [];
  first = 0;
  /** Not yet written: waiting for the connection. */
  pending: { h: H1Handler; bytes: Buffer }[] = [];
  /** The bytes of each in-flight request, kept to re-send them if the server closes before answering. */
  sentBytes: (Buffer | undefined)[] = [];
  corked = false;
  destroyed = false;
  connectTimer: NodeJS.Timeout | undefined;
  // Response parser state.
  state = S_HEAD;
  rest: Buffer | undefined;
  remaining = 0;
  closeAfter = false;
  gotBytes = false;

  constructor(opts: H1Options) {
    this.opts = opts;
  }

  /** Requests written and not yet answered, plus those waiting for the connection. */
  get size(): number {
    return this.inflight.length - this.first + this.pending.length;
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
    this.write(h, bytes);
  }

  private write(h: H1Handler, bytes: Buffer): void {
    const s = this.socket!;
    if (this.opts.pipelining > 1 && !this.corked) {
      // Requests this connection gets in the same turn of the event loop leave in one writev.
      this.corked = true;
      s.cork();
      process.nextTick(this.uncork);
    }
    this.inflight.push(h);
    this.sentBytes.push(bytes);
    s.write(bytes);
    h.onRequestStart(this);
  }

  private uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  private connect(): void {
    const s = net.connect({ host: this.opts.host, port: this.opts.port, noDelay: true });
    this.socket = s;
    this.state = S_HEAD;
    this.rest = undefined;
    this.gotBytes = false;
    this.closeAfter = false;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = undefined;
      if (!this.connected && this.socket === s) this.fail(s, coded(`connect timeout (${this.opts.connectTimeoutMs} ms) to ${this.opts.host}:${this.opts.port}`, 'UND_ERR_CONNECT_TIMEOUT', 'ConnectTimeoutError'));
    }, this.opts.connectTimeoutMs);
    s.once('connect', () => {
      if (this.socket !== s) return;
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      this.connected = true;
      const waiting = this.pending;
      this.pending = [];
      for (const p of waiting) this.write(p.h, p.bytes);
    });
    s.on('data', (chunk: Buffer) => {
      if (this.socket === s) this.onData(chunk);
    });
    s.on('error', (err) => {
      if (this.socket === s) this.fail(s, err);
    });
    s.on('end', () => {
      if (this.socket !== s) return;
      if (this.state === S_UNTIL_CLOSE) this.complete();
      this.fail(s, coded('the server closed the connection', 'UND_ERR_SOCKET', 'SocketError'), true);
    });
    s.on('close', () => {
      if (this.socket === s) this.fail(s, coded('the connection closed', 'UND_ERR_SOCKET', 'SocketError'), true);
    });
  }

  /**
   * The connection is over. Requests on it fail with `err`, except those the
   * server closed on without a byte of answer: behind a `Connection: close`
   * the server never saw them, so they are sent again (each such connection
   * answers at least one); closed on otherwise (a keep-alive race), once.
   */
  private fail(s: net.Socket, err: Error, closedByServer = false, announced = false): void {
    if (this.socket !== s) return;
    this.socket = undefined;
    this.connected = false;
    this.corked = false;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    s.destroy();
    const written = this.inflight.slice(this.first) as H1Handler[];
    const bytes = this.sentBytes.slice(this.first) as Buffer[];
    this.inflight = [];
    this.sentBytes = [];
    this.first = 0;
    const headUnanswered = !this.gotBytes;
    const again: { h: H1Handler; bytes: Buffer }[] = [];
    for (let i = 0; i < written.length; i++) {
      const h = written[i];
      // The head of the line may have had part of its answer; the rest had none.
      const unanswered = i > 0 || headUnanswered;
      if (announced || (closedByServer && unanswered && !h.retried)) {
        if (!announced) h.retried = true;
        again.push({ h, bytes: bytes[i] });
      } else h.onResponseError(null, err);
    }
    // Requests still waiting for this connection share its fate when it could not be made at all.
    const waiting = this.pending;
    this.pending = [];
    if (this.neverConnected(err)) for (const p of waiting) p.h.onResponseError(null, err);
    else again.push(...waiting);
    if (again.length > 0 && !this.destroyed) {
      this.pending = again;
      this.connect();
    } else for (const p of again) p.h.onResponseError(null, err);
  }

  private neverConnected(err: Error): boolean {
    const code = (err as Error & { code?: string }).code;
    return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'EADDRNOTAVAIL';
  }

  /** Cancels one request (a timeout): it fails with `err`; the connection is closed and the others on it are sent again. */
  cancel(h: H1Handler, err: Error): void {
    const pi = this.pending.findIndex((p) => p.h === h);
    if (pi >= 0) {
      this.pending.splice(pi, 1);
      h.onResponseError(null, err);
      return;
    }
    const idx = this.inflight.indexOf(h, this.first);
    if (idx < 0 || !this.socket) return;
    // Its answer may still come, and answers come in order: the connection cannot be used again.
    const s = this.socket;
    const others: { h: H1Handler; bytes: Buffer }[] = [];
    for (let i = this.first; i < this.inflight.length; i++) if (i !== idx) others.push({ h: this.inflight[i]!, bytes: this.sentBytes[i]! });
    this.inflight = [];
    this.sentBytes = [];
    this.first = 0;
    this.socket = undefined;
    this.connected = false;
    this.corked = false;
    s.destroy();
    h.onResponseError(null, err);
    const again = [...others, ...this.pending];
    this.pending = [];
    if (again.length > 0 && !this.destroyed) {
      this.pending = again;
      this.connect();
    }
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

  // ---- response parsing ----

  private onData(chunk: Buffer): void {
    let b = chunk;
    if (this.rest !== undefined) {
      b = Buffer.concat([this.rest, chunk]);
      this.rest = undefined;
    }
    let pos = 0;
    const end = b.length;
    // Callbacks may close this connection (and open the next): stop at once when they do.
    const s = this.socket;
    while (pos < end && this.socket === s && s !== undefined) {
      const st = this.state;
      if (st === S_HEAD) {
        const he = b.indexOf(CRLFCRLF, pos);
        if (he < 0) {
          if (end - pos > MAX_HEAD) return this.protocolError('response headers larger than 64 KB');
          this.rest = b.subarray(pos);
          return;
        }
        if (!this.head(b, pos, he)) return;
        pos = he + 4;
      } else if (st === S_BODY) {
        const n = Math.min(this.remaining, end - pos);
        const h = this.inflight[this.first]!;
        if (h.wantsBody) h.onResponseData(null, b.subarray(pos, pos + n));
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) this.complete();
      } else if (st === S_UNTIL_CLOSE) {
        const h = this.inflight[this.first]!;
        if (h.wantsBody) h.onResponseData(null, b.subarray(pos, end));
        pos = end;
      } else if (st === S_CHUNK_SIZE || st === S_CHUNK_CRLF || st === S_TRAILERS) {
        const le = b.indexOf(0x0a, pos);
        if (le < 0) {
          if (end - pos > MAX_HEAD) return this.protocolError('chunk line longer than 64 KB');
          this.rest = b.subarray(pos);
          return;
        }
        if (st === S_CHUNK_SIZE) {
          const size = parseInt(b.toString('latin1', pos, le), 16);
          if (!Number.isFinite(size) || size < 0) return this.protocolError('bad chunk size');
          this.state = size === 0 ? S_TRAILERS : S_CHUNK_DATA;
          this.remaining = size;
        } else if (st === S_CHUNK_CRLF) {
          this.state = S_CHUNK_SIZE;
        } else if (le - pos <= 1) {
          // The empty line after the last chunk (and any trailers).
          this.complete();
        }
        pos = le + 1;
      } else {
        // S_CHUNK_DATA
        const n = Math.min(this.remaining, end - pos);
        const h = this.inflight[this.first]!;
        if (h.wantsBody) h.onResponseData(null, b.subarray(pos, pos + n));
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = S_CHUNK_CRLF;
      }
    }
  }

  /** Parses a status line and headers in b[from, he); false when the connection was given up. */
  private head(b: Buffer, from: number, he: number): boolean {
    const h = this.inflight[this.first];
    if (h === undefined) {
      this.protocolError('a response arrived with no request waiting for it');
      return false;
    }
    // "HTTP/1.1 200 OK"
    if (b[from] !== 0x48 || b[from + 1] !== 0x54 || b[from + 4] !== 0x2f || b[from + 8] !== 0x20) {
      this.protocolError(`not an HTTP/1.x response: ${JSON.stringify(b.toString('latin1', from, Math.min(he, from + 40)))}`);
      return false;
    }
    const status = (b[from + 9] - 48) * 100 + (b[from + 10] - 48) * 10 + (b[from + 11] - 48);
    if (!(status >= 100 && status <= 999)) {
      this.protocolError('bad status code');
      return false;
    }
    const http10 = b[from + 7] === 0x30;
    this.gotBytes = true;
    let length = -1;
    let chunked = false;
    let close = http10;
    // Header lines: only Content-Length, Transfer-Encoding and Connection matter here.
    let line = b.indexOf(0x0a, from) + 1;
    while (line > 0 && line < he) {
      let le = b.indexOf(0x0a, line);
      if (le < 0 || le > he) le = he;
      const c = b[line] | 0x20;
      if (c === 0x63) {
        if (nameIs(b, line, 'content-length:')) {
          let v = 0;
          let i = line + 15;
          while (i < le && (b[i] === 0x20 || b[i] === 0x09)) i++;
          const start = i;
          while (i < le && b[i] >= 0x30 && b[i] <= 0x39) v = v * 10 + (b[i++] - 48);
          if (i === start) {
            this.protocolError('bad Content-Length');
            return false;
          }
          length = v;
        } else if (nameIs(b, line, 'connection:')) {
          const v = valueAt(b, line + 11, le);
          if (v.includes('close')) close = true;
          else if (v.includes('keep-alive')) close = false;
        }
      } else if (c === 0x74 && nameIs(b, line, 'transfer-encoding:')) {
        if (valueAt(b, line + 18, le).includes('chunked')) chunked = true;
      }
      line = le + 1;
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: the final response follows.
      if (status === 101) {
        this.protocolError('the server switched protocols (101), which a load test does not follow');
        return false;
      }
      return true;
    }
    this.closeAfter = close;
    h.onResponseStart(null, status);
    if (h.head || status === 204 || status === 304) this.complete();
    else if (chunked) this.state = S_CHUNK_SIZE;
    else if (length >= 0) {
      this.remaining = length;
      this.state = S_BODY;
      if (length === 0) this.complete();
    } else this.state = S_UNTIL_CLOSE;
    return true;
  }

  /** The head-of-line response is complete. */
  private complete(): void {
    const h = this.inflight[this.first]!;
    this.inflight[this.first] = undefined;
    this.sentBytes[this.first] = undefined;
    this.first++;
    if (this.first === this.inflight.length) {
      this.inflight.length = 0;
      this.sentBytes.length = 0;
      this.first = 0;
    }
    this.state = S_HEAD;
    this.gotBytes = false;
    const closing = this.closeAfter;
    this.closeAfter = false;
    h.onResponseEnd();
    // The server said it closes after this response: whatever followed it is sent again on a new connection.
    if (closing && this.socket) this.fail(this.socket, coded('the server closed the connection', 'UND_ERR_SOCKET', 'SocketError'), true, true);
  }

  private protocolError(message: string): void {
    if (this.socket) this.fail(this.socket, coded(`invalid HTTP response: ${message}`, 'HPE_INVALID', 'HTTPParserError'));
  }
}
