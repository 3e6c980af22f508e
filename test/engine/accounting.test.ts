/**
 * Every request that was due is accounted for, and none is sent twice: against
 * servers that close, reset, drop connections or never answer, the result's
 * offered arrivals equal answered + failed + unfinished, exactly, and the
 * server's own count of requests equals faultline's.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { H1Connection, encodeRequest, type H1Handler } from '../../src/engine/http1.ts';
import { runScenario } from '../helpers/run.ts';
import type { Result } from '../../src/result.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/**
 * A raw HTTP/1.1 server that counts every request it reads (request bodies by their
 * Content-Length). `answer(conn, n)` decides, for the n-th request on the conn-th
 * connection: 'ok' answers, 'last' answers then closes (FIN, no Connection: close) 30 ms later, as a
 * server closing an idle keep-alive lazily does (requests the client sends meanwhile are read, counted and
 * never answered: on a quiet machine the close would otherwise always win the race and nothing would be cut),
 * 'reset' resets, 'silent' reads on without answering.
 */
async function server(answer: (conn: number, n: number) => 'ok' | 'last' | 'reset' | 'silent') {
  let received = 0;
  let answered = 0;
  let conns = 0;
  const sockets = new Set<net.Socket>();
  // Half-open: after its FIN the server still reads (and counts) what the client had already sent.
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    const conn = ++conns;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    let n = 0;
    let over = false;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const he = buf.indexOf('\r\n\r\n');
        if (he < 0) return;
        const m = /content-length: *(\d+)/i.exec(buf.toString('latin1', 0, he));
        const total = he + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < total) return;
        buf = buf.subarray(total);
        received++;
        n++;
        if (over) continue;
        const what = answer(conn, n);
        if (what === 'reset') {
          over = true;
          s.resetAndDestroy();
          return;
        }
        if (what === 'silent') continue;
        answered++;
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        if (what === 'last') {
          over = true;
          setTimeout(() => s.end(), 30);
        }
      }
    });
    s.on('end', () => s.end());
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  closers.push(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  return { url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, received: () => received, answered: () => answered, conns: () => conns };
}

/** Requests due by the schedule (open model) and what became of them, over the whole result. */
function account(r: Result) {
  const due = r.timeline.windows.reduce((a, w) => a + w.offered, 0);
  const requests = r.timeline.windows.reduce((a, w) => a + w.overall.requests, 0);
  const byKind: Record<string, number> = {};
  for (const w of r.timeline.windows) for (const [k, n] of Object.entries(w.overall.byKind)) byKind[k] = (byKind[k] ?? 0) + (n ?? 0);
  const failed = r.timeline.windows.reduce((a, w) => a + w.overall.errors, 0) - (byKind.unfinished ?? 0);
  const unfinished = byKind.unfinished ?? 0;
  return { due, requests, answered: requests - failed - unfinished, failed, unfinished, byKind };
}

describe('every due request is accounted for, none sent twice', () => {
  it('closes after every third response (no Connection: close), POSTs at pipelining 4: server count = faultline count, the rest closed/reset', async () => {
    const srv = await server((_c, n) => (n < 3 ? 'ok' : n === 3 ? 'last' : 'silent'));
    const r = await runScenario({
      target: srv.url,
      requests: [{ method: 'POST', path: '/order', json: { sku: 42 } }],
      load: { profile: 'constant', rate: 400, duration: '1s' },
      engine: { workers: 1, connections: 4, pipelining: 4, timeout: '2s' },
    });
    const a = account(r);
    expect(a.due).toBe(400);
    expect(a.requests).toBe(a.due);
    // Every request faultline counted reached the server exactly once (none re-sent, none invented).
    expect(srv.received()).toBe(a.requests - (a.byKind.unfinished ?? 0));
    expect(a.answered).toBe(srv.answered());
    // Whatever was not answered failed because its connection closed under it.
    expect((a.byKind.closed ?? 0) + (a.byKind.reset ?? 0)).toBe(a.failed);
    expect(a.failed).toBeGreaterThan(0);
    expect(srv.conns()).toBeGreaterThan(10);
  });

  it('a server that never answers: every due request is unfinished at the end, sent or not', async () => {
    const srv = await server(() => 'silent');
    const r = await runScenario(
      { target: srv.url, requests: [{ path: '/' }], load: { profile: 'constant', rate: 200, duration: '1s' }, engine: { workers: 1, connections: 20, timeout: '30s' } },
      { graceMs: 300 },
    );
    const a = account(r);
    expect(a.due).toBe(200);
    expect(a.requests).toBe(200);
    expect(a.unfinished).toBe(200);
    // 20 were sent (one per connection); 180 waited for a slot the whole stage.
    expect(srv.received()).toBe(20);
    expect(r.stages[0].examples.unfinished).toBeDefined();
    // Their age is a lower bound of their latency: the first one waited the whole second.
    expect(r.stages[0].latency.max).toBeGreaterThanOrEqual(1000);
  });

  it('a crash-looping server (accepts, then resets every connection): every request shows', async () => {
    const srv = await server(() => 'reset');
    const r = await runScenario({ target: srv.url, requests: [{ path: '/' }], load: { profile: 'constant', rate: 250, duration: '2s' }, engine: { workers: 1, connections: 32, timeout: '2s' } });
    const a = account(r);
    expect(a.due).toBe(500);
    expect(a.requests).toBe(a.due);
    expect(a.byKind.reset).toBe(a.failed);
    // Each request costs a new connection and its reset: those the generator could not send in time are unfinished.
    expect(a.failed + a.unfinished).toBe(a.due);
    expect(a.failed).toBeGreaterThan(a.due / 2);
    expect(srv.received()).toBeLessThanOrEqual(a.requests);
  });

  it('a server that drops every 5th connection: due = answered + failed + unfinished, exactly', async () => {
    const srv = await server((c, n) => (c % 5 === 0 ? 'reset' : n % 4 === 0 ? 'last' : 'ok'));
    const r = await runScenario({
      target: srv.url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 300, duration: '1s' },
      engine: { workers: 1, connections: 8, pipelining: 2, timeout: '2s' },
    });
    const a = account(r);
    expect(a.due).toBe(300);
    expect(a.answered + a.failed + a.unfinished).toBe(a.due);
    expect(a.requests).toBe(a.due);
    expect(a.answered).toBe(srv.answered());
    // A request written behind one the server reset may never be read by it (its RST was on the way): the server
    // reads at most what faultline counted as sent, never more (nothing sent twice).
    expect(srv.received()).toBeLessThanOrEqual(a.requests - a.unfinished);
    expect(srv.received()).toBeGreaterThanOrEqual(a.answered);
    expect(a.failed).toBeGreaterThan(0);
    expect((a.byKind.reset ?? 0) + (a.byKind.closed ?? 0)).toBe(a.failed);
  });

  it('requests in flight when the target process is killed are reset or closed, not connect_refused', async () => {
    // A server in its own process that answers after 300 ms: about 60 requests are on the wire when it is killed.
    const child = spawn(
      process.execPath,
      ['-e', `require('node:http').createServer((q, r) => setTimeout(() => r.end('ok'), 300)).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    closers.push(() => child.kill('SIGKILL'));
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    let killedAt = 0;
    const r = await runScenario(
      { target: `http://127.0.0.1:${Number(line.toString().trim())}`, requests: [{ path: '/' }], load: { profile: 'constant', rate: 200, duration: '2s' }, engine: { workers: 1, connections: 100, timeout: '3s' } },
      {
        onEvent: (e) => {
          if (e.type === 'stage-start')
            setTimeout(() => {
              killedAt = Date.now();
              child.kill('SIGKILL');
            }, 1000);
        },
      },
    );
    expect(killedAt).toBeGreaterThan(0);
    const a = account(r);
    expect(a.requests).toBe(a.due);
    const cut = (a.byKind.reset ?? 0) + (a.byKind.closed ?? 0);
    // Those on the wire at the kill (≈ 0.3 s × 200/s) died with their connections.
    expect(cut).toBeGreaterThanOrEqual(40);
    // Only requests sent after the kill found the port closed: at most the second that followed.
    expect(a.byKind.connect_refused ?? 0).toBeLessThanOrEqual(210);
    expect(cut + (a.byKind.connect_refused ?? 0) + a.answered + a.unfinished).toBe(a.due);
  });
});

describe('memory is flat in request count at any pipelining depth', () => {
  it('100,000 responses at depth 4 on one connection: the in-flight ring stays at the depth', async () => {
    const srv = await server(() => 'ok');
    const port = Number(new URL(srv.url).port);
    const conn = new H1Connection({ host: '127.0.0.1', port, pipelining: 4, connectTimeoutMs: 2000 });
    const bytes = encodeRequest(`127.0.0.1:${port}`, 'GET', '/', {}, null);
    let done = 0;
    const total = 100_000;
    let sent = 0;
    let deepest = 0;
    await new Promise<void>((resolve, reject) => {
      const h = (): H1Handler => ({
        wantsBody: false,
        head: false,
        writtenAt: 0,
        firstByteAt: 0,
        onConnected() {},
        onRequestStart() {},
        onResponseStart() {},
        onResponseData() {},
        onResponseEnd() {
          done++;
          if (done === total) resolve();
          else if (sent < total) {
            sent++;
            conn.send(h(), bytes);
          }
          deepest = Math.max(deepest, conn.inflight.buf.length);
        },
        onResponseError(_c, err) {
          reject(err);
        },
      });
      for (let i = 0; i < 4; i++) {
        sent++;
        conn.send(h(), bytes);
      }
    });
    conn.destroy();
    expect(done).toBe(total);
    expect(srv.received()).toBe(total);
    expect(deepest).toBeLessThanOrEqual(8);
    expect(conn.inflight.size).toBe(0);
  });
});
