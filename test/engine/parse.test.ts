/**
 * The response parser (src/engine/parse.ts) alone, no sockets: every response of
 * the conformance table whole, split at every byte, and several in one packet.
 */
import { describe, it, expect } from 'vitest';
import { ResponseParser, ANY, HEAD, NONE, EOF_TRUNCATED, type ResponseSink } from '../../src/engine/parse.ts';
import { CASES, type Case, type Outcome } from './parse-table.ts';

/** A sink for a queue of requests (methods), collecting what the parser said. */
class Collect implements ResponseSink {
  queue: string[];
  done: { status: number; body: number; close: boolean }[] = [];
  status = 0;
  body = 0;
  constructor(methods: string[]) {
    this.queue = methods.slice();
  }
  awaiting(): number {
    return this.queue.length === 0 ? NONE : this.queue[0] === 'HEAD' ? HEAD : ANY;
  }
  begun = 0;
  onResponseBegin(): void {
    this.begun++;
  }
  onStatus(status: number): void {
    this.status = status;
    this.body = 0;
  }
  wantsBody(): boolean {
    return true;
  }
  onBody(chunk: Buffer): void {
    this.body += chunk.length;
  }
  onComplete(close: boolean): void {
    this.queue.shift();
    this.done.push({ status: this.status, body: this.body, close });
  }
}

/** Feeds the packets and the end of stream the case implies; the outcome as the table states it. */
function outcome(c: Case, packets: Buffer[]): Outcome {
  const sink = new Collect([c.method ?? 'GET']);
  const p = new ResponseParser(sink);
  for (const b of packets) if (!p.feed(b)) break;
  if (p.error !== undefined) return { error: 'malformed' };
  if (sink.done.length === 0 && c.after === 'close') p.eof();
  if (sink.done.length > 0) return { ok: true, status: sink.done[0].status, body: sink.done[0].body };
  if (c.after === 'reset') return { error: 'reset' };
  return c.after === 'close' ? { error: 'closed' } : { error: 'timeout' };
}

describe('the response parser, by the conformance table', () => {
  it('has at least 80 cases, valid, edge and malformed', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
    expect(CASES.filter((c) => 'ok' in c.expect).length).toBeGreaterThanOrEqual(40);
    expect(CASES.filter((c) => 'error' in c.expect && c.expect.error === 'malformed').length).toBeGreaterThanOrEqual(30);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  for (const c of CASES) {
    if (c.after === 'reset') continue; // an RST is the socket's, not the parser's (transports.test.ts)
    it(`${c.name}: whole, and split at every byte`, () => {
      const raw = Buffer.from(c.raw, 'latin1');
      expect(outcome(c, [raw])).toEqual(c.expect);
      if (raw.length <= 4096) {
        for (let at = 1; at < raw.length; at++) expect(outcome(c, [raw.subarray(0, at), raw.subarray(at)]), `split at ${at}`).toEqual(c.expect);
        expect(outcome(c, [...raw].map((x) => Buffer.from([x]))), 'one byte a packet').toEqual(c.expect);
      } else {
        // Large cases: in 1000-byte packets and at a few odd places.
        const parts: Buffer[] = [];
        for (let i = 0; i < raw.length; i += 1000) parts.push(raw.subarray(i, i + 1000));
        expect(outcome(c, parts)).toEqual(c.expect);
        for (const at of [1, 17, 1023, raw.length - 3]) expect(outcome(c, [raw.subarray(0, at), raw.subarray(at)]), `split at ${at}`).toEqual(c.expect);
      }
    });
  }
});

describe('several responses in one packet', () => {
  /** Whether the server keeps the connection open after this response (an HTTP/1.0 answer, say, does not). */
  const keepsOpen = (c: Case) => {
    const sink = new Collect([c.method ?? 'GET']);
    new ResponseParser(sink).feed(Buffer.from(c.raw, 'latin1'));
    return sink.done.length === 1 && !sink.done[0].close;
  };
  const keepAlive = CASES.filter((c) => 'ok' in c.expect && c.after === undefined && !c.undici && keepsOpen(c));

  it('every keep-alive response of the table, back to back in one packet, each complete and in order', () => {
    expect(keepAlive.length).toBeGreaterThan(40);
    const raw = Buffer.from(keepAlive.map((c) => c.raw).join(''), 'latin1');
    for (const packets of [[raw], [raw.subarray(0, 777), raw.subarray(777, 5000), raw.subarray(5000)]]) {
      const sink = new Collect(keepAlive.map((c) => c.method ?? 'GET'));
      const p = new ResponseParser(sink);
      for (const b of packets) expect(p.feed(b)).toBe(true);
      expect(p.error).toBeUndefined();
      expect(sink.done.map((d) => ({ ok: true, status: d.status, body: d.body }))).toEqual(keepAlive.map((c) => c.expect));
    }
  });

  it('a stray empty line between responses does not break the pipeline', () => {
    const one = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const sink = new Collect(['GET', 'GET', 'GET']);
    const p = new ResponseParser(sink);
    expect(p.feed(Buffer.from(`${one}\r\n${one}\r\n\r\n${one}`))).toBe(true);
    expect(sink.done.length).toBe(3);
  });

  it('after a response announcing Connection: close, nothing more is read', () => {
    const sink = new Collect(['GET', 'GET']);
    const p = new ResponseParser(sink);
    expect(p.feed(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))).toBe(false);
    expect(p.error).toBeUndefined();
    expect(sink.done).toEqual([{ status: 200, body: 2, close: true }]);
  });

  it('a response nobody asked for is refused', () => {
    const sink = new Collect([]);
    const p = new ResponseParser(sink);
    expect(p.feed(Buffer.from('\r\n'))).toBe(true); // a stray empty line on an idle connection is fine
    expect(p.feed(Buffer.from('HTTP/1.1 408 Request Timeout\r\n\r\n'))).toBe(false);
    expect(p.error).toMatch(/no request waiting/);
  });

  it('a close in the middle of a response is told apart from a close between responses', () => {
    const sink = new Collect(['GET']);
    const p = new ResponseParser(sink);
    p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'));
    expect(p.eof()).toBe(EOF_TRUNCATED);
  });
});
