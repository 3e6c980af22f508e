/**
 * The HTTP/1.1 response parser of faultline's own client, as a pure module: bytes
 * in, events out, no sockets. It reads only what a load test needs (status,
 * framing, Connection) and refuses what would make it misread framing.
 *
 * It follows RFC 9112 and, where the RFC leaves a choice, llhttp (Node's and
 * undici's parser) in its default strict mode, so the two transports classify a
 * response alike (test/engine/parse-table.ts runs one table through both).
 * Where faultline chooses otherwise it says why, at the spot:
 * - a bare LF ends a line (RFC 9112 §2.2 allows it; llhttp refuses it in
 *   responses): a client measuring a server should measure, not reject, a
 *   response every browser reads;
 * - header values it does not interpret are not checked byte by byte (the hot
 *   path); llhttp refuses control characters in them;
 * - the head may be 64 KB (llhttp, as Node configures it: 16 KB).
 *
 * Everything else that could change where a response ends is `malformed`: a
 * bad status line, a Content-Length that is not all digits, repeated or beside
 * Transfer-Encoding, whitespace before a colon, a bad chunk size or chunk end,
 * obs-fold on a framing header, a head over 64 KB, bytes nobody asked for.
 */

/** What the parser tells its connection. */
export interface ResponseSink {
  /** The request the next response answers: NONE (no request waits), ANY, or HEAD (no body whatever the headers say). */
  awaiting(): number;
  /** The first byte of a response arrived (after any empty lines): time to first byte ends here. */
  onResponseBegin(): void;
  /** A final (non-1xx) status line and headers arrived. */
  onStatus(status: number): void;
  /** Body bytes (views into the packet: copy what you keep). Called only while `wantsBody()`. */
  onBody(chunk: Buffer): void;
  wantsBody(): boolean;
  /** The response is complete; `close`: the server closes after it (nothing more is parsed). */
  onComplete(close: boolean): void;
}

export const NONE = 0;
export const ANY = 1;
export const HEAD = 2;

/** What end of stream means for the response being read. */
export const EOF_IDLE = 0;
/** A body delimited by the close just ended: the response is complete. */
export const EOF_COMPLETE = 1;
/** The connection closed in the middle of a response. */
export const EOF_TRUNCATED = 2;

export const MAX_HEAD = 64 * 1024;

const S_HEAD = 0;
const S_BODY = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_DATA = 3;
const S_CHUNK_CR = 4;
const S_CHUNK_LF = 5;
const S_TRAILERS = 6;
const S_UNTIL_CLOSE = 7;
/** After a response that announced the close: nothing more is read. */
const S_CLOSED = 8;

const LF_CRLF = Buffer.from('\n\r\n');
const LF_LF = Buffer.from('\n\n');
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f];
const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;

/** RFC 9110 tchar, as a lookup table. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

const HEXVAL = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEXVAL[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEXVAL[0x41 + c] = 10 + c;
  HEXVAL[0x61 + c] = 10 + c;
}

// Framing headers, by name (lower case, with the colon).
const H_OTHER = 0;
const H_CONTENT_LENGTH = 1;
const H_TRANSFER_ENCODING = 2;
const H_CONNECTION = 3;

/** The first LF at or after `i` (the caller knows there is one). */
function lineFeed(b: Buffer, i: number): number {
  while (b[i] !== LF) i++;
  return i;
}

function nameIs(b: Buffer, at: number, len: number, lower: string): boolean {
  if (len !== lower.length) return false;
  for (let i = 0; i < len; i++) if ((b[at + i] | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

const CHUNKED = ['chunked'];

/** Comma-separated tokens of a header value, lower-cased and trimmed (Connection, Transfer-Encoding: short, rare). */
function tokens(v: string): string[] {
  return v
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

export class ResponseParser {
  readonly sink: ResponseSink;
  state = S_HEAD;
  /** Unparsed bytes of an incomplete head or line, carried to the next packet. */
  rest: Buffer | undefined;
  /** Where the search for the end of the head resumes within `rest` (no quadratic rescans). */
  scanned = 0;
  remaining = 0;
  close = false;
  /** Some byte of the current response (after any leading empty lines) arrived. */
  started = false;
  bodyWanted = false;
  trailerBytes = 0;
  /** Why the stream was refused (set once; the parser is then dead). */
  error: string | undefined;

  constructor(sink: ResponseSink) {
    this.sink = sink;
  }

  /** A new connection. */
  reset(): void {
    this.state = S_HEAD;
    this.rest = undefined;
    this.scanned = 0;
    this.remaining = 0;
    this.close = false;
    this.started = false;
    this.error = undefined;
  }

  /** A response is being read (bytes of it arrived, it is not complete). */
  get midResponse(): boolean {
    return this.started;
  }

  /**
   * Parses a packet; false when the stream is malformed (`error` says why) or the server announced its close.
   * `chunk` is read only during the call (the connection reuses its buffer): what is kept across packets is copied.
   */
  feed(chunk: Buffer): boolean {
    if (this.error !== undefined || this.state === S_CLOSED) return false;
    let b = chunk;
    if (this.rest !== undefined) {
      b = Buffer.concat([this.rest, chunk]);
      this.rest = undefined;
    }
    let pos = 0;
    const end = b.length;
    while (pos < end) {
      const st = this.state;
      if (st === S_HEAD) {
        pos = this.head(b, pos);
        if (pos < 0) return false;
        if (this.rest !== undefined) return true;
      } else if (st === S_BODY || st === S_CHUNK_DATA) {
        const n = this.remaining < end - pos ? this.remaining : end - pos;
        if (this.bodyWanted) this.sink.onBody(b.subarray(pos, pos + n));
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) {
          if (st === S_CHUNK_DATA) this.state = S_CHUNK_CR;
          else if (!this.complete()) return false;
        }
      } else if (st === S_UNTIL_CLOSE) {
        if (this.bodyWanted) this.sink.onBody(b.subarray(pos, end));
        pos = end;
      } else if (st === S_CHUNK_CR) {
        const c = b[pos++];
        if (c === CR) this.state = S_CHUNK_LF;
        else if (c === LF) this.state = S_CHUNK_SIZE;
        else return this.fail('chunk data longer than its size');
      } else if (st === S_CHUNK_LF) {
        if (b[pos++] !== LF) return this.fail('chunk data longer than its size');
        this.state = S_CHUNK_SIZE;
      } else if (st === S_CHUNK_SIZE || st === S_TRAILERS) {
        const le = b.indexOf(LF, pos);
        if (le < 0) {
          if (end - pos > 4096 + (st === S_TRAILERS ? MAX_HEAD : 0)) return this.fail(st === S_TRAILERS ? 'trailers larger than 64 KB' : 'chunk size line too long');
          // A copy: the connection's read buffer is reused for the next packet.
          this.rest = Buffer.from(b.subarray(pos));
          return true;
        }
        const lineEnd = le > pos && b[le - 1] === CR ? le - 1 : le;
        if (st === S_CHUNK_SIZE) {
          if (!this.chunkSize(b, pos, lineEnd)) return false;
        } else if (lineEnd === pos) {
          // The empty line after the last chunk and any trailers.
          if (!this.complete()) return false;
        } else {
          this.trailerBytes += le + 1 - pos;
          if (this.trailerBytes > MAX_HEAD) return this.fail('trailers larger than 64 KB');
          if (this.fieldLine(b, pos, lineEnd) < 0) return false;
        }
        pos = le + 1;
      } else return false; // S_CLOSED: the server said it closes; what follows answers nothing
    }
    return this.error === undefined && this.state !== S_CLOSED;
  }

  /** The connection's read side ended. */
  eof(): number {
    if (this.error !== undefined) return EOF_TRUNCATED;
    if (this.state === S_UNTIL_CLOSE) {
      this.complete();
      return EOF_COMPLETE;
    }
    return this.started ? EOF_TRUNCATED : EOF_IDLE;
  }

  private fail(message: string): false {
    this.error = message;
    return false;
  }

  /** Reads a head starting at `from`; the position after it, or -1 when refused. Sets `rest` when incomplete. */
  private head(b: Buffer, from: number): number {
    const end = b.length;
    // Empty lines before a status line are skipped (RFC 9112 §2.2, as llhttp does).
    if (!this.started) {
      while (from < end && (b[from] === CR || b[from] === LF)) from++;
      if (from === end) return end;
      if (this.sink.awaiting() === NONE) {
        this.fail(`a response arrived with no request waiting for it: ${JSON.stringify(b.toString('latin1', from, Math.min(end, from + 40)))}`);
        return -1;
      }
      this.started = true;
      this.sink.onResponseBegin();
    }
    // Not HTTP at all (an SSH banner, TLS, a stray byte): refused at once rather than waiting for a head that never ends.
    for (let k = 0; k < 5 && from + k < end; k++) {
      if (b[from + k] !== HTTP_SLASH[k]) {
        this.fail(`not an HTTP/1.x status line: ${JSON.stringify(b.toString('latin1', from, Math.min(end, from + 40)))}`);
        return -1;
      }
    }
    // Find the empty line that ends the head: "\n\r\n" (CRLF line ends, or a bare LF before a CRLF), else "\n\n"
    // (bare LF). One native search per head on the hot path; a bare-LF empty line before the "\n\r\n" found is
    // caught by parseHead, which stops at the first empty line.
    const i = this.scanned > from ? this.scanned : from;
    let he = b.indexOf(LF_CRLF, i);
    if (he < 0) he = b.indexOf(LF_LF, i);
    if (he < 0) {
      if (end - from > MAX_HEAD) {
        this.fail('response head larger than 64 KB');
        return -1;
      }
      this.rest = Buffer.from(b.subarray(from)); // a copy: the read buffer is reused
      // Resume a little before the end: the empty line may straddle packets.
      this.scanned = Math.max(0, end - from - 3);
      return end;
    }
    this.scanned = 0;
    return this.parseHead(b, from, he) ? this.headEnd : -1;
  }

  // Header facts of the head being parsed.
  private length = -1;
  private lengthSeen = false;
  private te: string | undefined;
  private conn: string | undefined;
  private lastFraming = false;
  /** Where the head just parsed ended (after its empty line). */
  private headEnd = 0;

  /**
   * Status line and headers from `from`, up to the first empty line, which is at the latest the one after `he`
   * (the LF ending the last header line); `headEnd` is set to the position after that empty line. False when
   * refused, and after a response that announced its close (nothing more is read).
   */
  private parseHead(b: Buffer, from: number, he: number): boolean {
    // Status line: HTTP/1.x SP 3DIGIT [SP reason] — nothing else. (Lines are found by a loop here, not
    // Buffer#indexOf: for lines of tens of bytes the call into C++ costs more than the scan; an LF is sure at `he`.)
    const sle = lineFeed(b, from);
    const slEnd = b[sle - 1] === CR ? sle - 1 : sle;
    if (
      slEnd - from < 12 ||
      b[from] !== 0x48 || b[from + 1] !== 0x54 || b[from + 2] !== 0x54 || b[from + 3] !== 0x50 || b[from + 4] !== 0x2f ||
      b[from + 5] !== 0x31 || b[from + 6] !== 0x2e || (b[from + 7] !== 0x31 && b[from + 7] !== 0x30) || b[from + 8] !== SP
    ) {
      return this.fail(`not an HTTP/1.x status line: ${JSON.stringify(b.toString('latin1', from, Math.min(slEnd, from + 40)))}`);
    }
    const d0 = b[from + 9] - 48;
    const d1 = b[from + 10] - 48;
    const d2 = b[from + 11] - 48;
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (slEnd > from + 12 && b[from + 12] !== SP)) {
      return this.fail(`bad status code: ${JSON.stringify(b.toString('latin1', from, Math.min(slEnd, from + 40)))}`);
    }
    for (let k = from + 12; k < slEnd; k++) if (b[k] === CR) return this.fail('a bare CR in the status line');
    const status = d0 * 100 + d1 * 10 + d2;
    const http10 = b[from + 7] === 0x30;
    this.length = -1;
    this.lengthSeen = false;
    this.te = undefined;
    this.conn = undefined;
    this.lastFraming = false;
    let line = sle + 1;
    let next = -1;
    while (line <= he) {
      const le = lineFeed(b, line);
      const lineEnd = le > line && b[le - 1] === CR ? le - 1 : le;
      if (lineEnd === line) {
        // An empty line before `he` (bare LF line ends): the head ends here.
        next = le + 1;
        break;
      }
      if (this.fieldLine(b, line, lineEnd) < 0) return false;
      line = le + 1;
    }
    if (next < 0) next = b.indexOf(LF, he + 1) + 1;
    this.headEnd = next;
    if (next - from > MAX_HEAD) return this.fail('response head larger than 64 KB');
    if (status < 200) {
      // 100 Continue, 103 Early Hints: the final response follows (its headers are ignored).
      if (status === 101) return this.fail('the server switched protocols (101), which a load test does not follow');
      this.started = false;
      return true;
    }
    let close = http10;
    const conn = this.conn;
    if (conn === 'keep-alive') close = false;
    else if (conn === 'close') close = true;
    else if (conn !== undefined) {
      const t = tokens(conn);
      if (t.includes('close')) close = true;
      else if (t.includes('keep-alive')) close = false;
    }
    const awaiting = this.sink.awaiting();
    this.sink.onStatus(status);
    this.bodyWanted = this.sink.wantsBody();
    this.close = close;
    if (awaiting === HEAD || status === 204 || status === 304) return this.complete();
    if (this.te !== undefined) {
      // Both would let a proxy and a client disagree on where the body ends (request smuggling): refused, as llhttp does.
      if (this.lengthSeen) return this.fail('both Transfer-Encoding and Content-Length');
      const t = this.te === 'chunked' ? CHUNKED : tokens(this.te);
      if (t.length > 0 && t[t.length - 1] === 'chunked') {
        if (t.indexOf('chunked') !== t.length - 1) return this.fail('chunked applied twice');
        this.state = S_CHUNK_SIZE;
        this.trailerBytes = 0;
      } else {
        // RFC 9112 §6.3: a response whose last coding is not chunked is read until the close.
        this.close = true;
        this.state = S_UNTIL_CLOSE;
      }
      return true;
    }
    if (this.lengthSeen) {
      this.remaining = this.length;
      if (this.length === 0) return this.complete();
      this.state = S_BODY;
      return true;
    }
    this.close = true;
    this.state = S_UNTIL_CLOSE;
    return true;
  }

  /** One header (or trailer) line b[at, lineEnd); -1 when refused. */
  private fieldLine(b: Buffer, at: number, lineEnd: number): number {
    const c0 = b[at];
    if (c0 === SP || c0 === HT) {
      // obs-fold (RFC 9112 §5.2): a continuation of the previous value, read as a space. On a framing header it
      // could hide the length, so it is refused there (llhttp refuses it there too).
      if (this.lastFraming) return this.fail('obs-fold in a framing header') ? 0 : -1;
      for (let k = at; k < lineEnd; k++) if (b[k] === CR) return this.fail('a bare CR in a header') ? 0 : -1;
      return 0;
    }
    let k = at;
    while (k < lineEnd && TCHAR[b[k]] === 1) k++;
    if (k === at || k >= lineEnd || b[k] !== 0x3a) {
      // Whitespace before the colon (`Content-Length : 3`), no colon, or a byte that is not a token character.
      return this.fail(`bad header line: ${JSON.stringify(b.toString('latin1', at, Math.min(lineEnd, at + 60)))}`) ? 0 : -1;
    }
    const nameLen = k - at;
    let kind = H_OTHER;
    const c = b[at] | 0x20;
    if (c === 0x63) {
      if (nameIs(b, at, nameLen, 'content-length')) kind = H_CONTENT_LENGTH;
      else if (nameIs(b, at, nameLen, 'connection')) kind = H_CONNECTION;
    } else if (c === 0x74 && nameIs(b, at, nameLen, 'transfer-encoding')) kind = H_TRANSFER_ENCODING;
    this.lastFraming = kind !== H_OTHER;
    if (kind === H_OTHER) return 0;
    let v = k + 1;
    let ve = lineEnd;
    while (v < ve && (b[v] === SP || b[v] === HT)) v++;
    while (ve > v && (b[ve - 1] === SP || b[ve - 1] === HT)) ve--;
    for (let q = v; q < ve; q++) if (b[q] === CR || b[q] === 0) return this.fail('a control character in a framing header') ? 0 : -1;
    // Framing fields have no place in trailers (RFC 9110 §6.5.1); llhttp refuses them there too.
    if (this.state === S_TRAILERS) return this.fail('a framing header in the trailers') ? 0 : -1;
    if (kind === H_CONTENT_LENGTH) {
      // One Content-Length, all digits. A repeat, even of the same value, is refused as llhttp does (RFC 9110 §8.6 lets a
      // recipient choose): a list or a repeat means some hop merged two messages.
      if (this.lengthSeen) return this.fail('Content-Length repeated') ? 0 : -1;
      if (v === ve || ve - v > 15) return this.fail(`bad Content-Length: ${JSON.stringify(b.toString('latin1', v, ve))}`) ? 0 : -1;
      let n = 0;
      for (let q = v; q < ve; q++) {
        const d = b[q] - 48;
        if (d < 0 || d > 9) return this.fail(`bad Content-Length: ${JSON.stringify(b.toString('latin1', v, ve))}`) ? 0 : -1;
        n = n * 10 + d;
      }
      this.length = n;
      this.lengthSeen = true;
    } else {
      // The common single values are read in place (this runs for nearly every response); lists become strings.
      const len = ve - v;
      const s =
        len === 10 && nameIs(b, v, 10, 'keep-alive') ? 'keep-alive' : len === 5 && nameIs(b, v, 5, 'close') ? 'close' : len === 7 && nameIs(b, v, 7, 'chunked') ? 'chunked' : b.toString('latin1', v, ve);
      if (kind === H_TRANSFER_ENCODING) this.te = this.te === undefined ? s : `${this.te}, ${s}`;
      else this.conn = this.conn === undefined ? s : `${this.conn}, ${s}`;
    }
    return 0;
  }

  /** A chunk-size line b[at, lineEnd): hex digits, then optionally `;` extensions (with BWS before them). */
  private chunkSize(b: Buffer, at: number, lineEnd: number): boolean {
    let k = at;
    let size = 0;
    while (k < lineEnd && HEXVAL[b[k]] >= 0) {
      size = size * 16 + HEXVAL[b[k]];
      k++;
    }
    if (k === at) return this.fail(`bad chunk size: ${JSON.stringify(b.toString('latin1', at, Math.min(lineEnd, at + 30)))}`);
    if (k - at > 13) return this.fail('chunk size too large');
    if (k < lineEnd) {
      let q = k;
      while (q < lineEnd && (b[q] === SP || b[q] === HT)) q++;
      if (q >= lineEnd || b[q] !== 0x3b) return this.fail(`bad chunk size: ${JSON.stringify(b.toString('latin1', at, Math.min(lineEnd, at + 30)))}`);
      for (; q < lineEnd; q++) if (b[q] === CR || b[q] === 0) return this.fail('a control character in a chunk extension');
    }
    if (size === 0) {
      this.state = S_TRAILERS;
      this.lastFraming = false;
    } else {
      this.state = S_CHUNK_DATA;
      this.remaining = size;
    }
    return true;
  }

  /** The response is complete; false when the server announced its close (nothing more is parsed). */
  private complete(): boolean {
    const close = this.close;
    this.state = close ? S_CLOSED : S_HEAD;
    this.started = false;
    this.close = false;
    this.remaining = 0;
    this.sink.onComplete(close);
    return !close;
  }
}
