/**
 * The worker's own HTTP/1.1 client (src/engine/http1.ts), end to end through
 * runs against servers with awkward but legal behaviour: chunked bodies,
 * Connection: close, pipelined requests cut off by a close, HEAD, 1xx, 204,
 * bodies that end with the connection, request bodies.
 */
import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { runScenario } from '../helpers/run.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function serve(server: http.Server | net.Server): Promise<string> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** A raw HTTP/1.1 server: `answer(n)` gives the bytes for the n-th request on a connection (counting from 1), or null to close it. */
async function rawServer(answer: (n: number, head: string) => string | null): Promise<{ url: string; count: () => number; received: () => number }> {
  let total = 0;
  let received = 0;
  const server = net.createServer((s) => {
    let buf = '';
    let n = 0;
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, i);
        buf = buf.slice(i + 4);
        n++;
        received++;
        const out = answer(n, head);
        if (out === null) {
          s.end();
          return;
        }
        total++;
        s.write(out);
      }
    });
    s.on('error', () => {});
  });
  const url = await serve(server);
  return { url, count: () => total, received: () => received };
}

const load = (rate: number, duration = '1s') => ({ profile: 'constant' as const, rate, duration });

describe('the http1 client', () => {
  it('reads chunked bodies, and checks them when asked', async () => {
    const url = await serve(
      http.createServer((req, res) => {
        res.write('hello ');
        setImmediate(() => res.end('world'));
      }),
    );
    const r = await runScenario({
      target: url,
      requests: [
        { name: 'ok', path: '/', expect: { bodyIncludes: 'world' } },
        { name: 'bad', path: '/', expect: { bodyIncludes: 'planet' } },
      ],
      load: load(100),
      engine: { workers: 1, connections: 4 },
    });
    const s = r.stages[0];
    expect(s.byName.ok.requests).toBeGreaterThanOrEqual(45);
    expect(s.byName.ok.errorCount).toBe(0);
    expect(s.byName.bad.errorCount).toBe(s.byName.bad.requests);
    expect(s.errors.mismatch).toBe(s.byName.bad.requests);
  });

  it('follows Connection: close on every response without an error', async () => {
    let seen = 0;
    const url = await serve(
      http.createServer((req, res) => {
        seen++;
        res.setHeader('connection', 'close');
        res.end('bye');
      }),
    );
    // A new connection per request: enough of them that a busy machine does not leave arrivals waiting at the end.
    const r = await runScenario({ target: url, requests: [{ path: '/' }], load: load(200), engine: { workers: 1, connections: 16 } });
    const s = r.stages[0];
    expect(s.requests).toBeGreaterThanOrEqual(190);
    expect(s.errorCount).toBe(0);
    expect(s.requests).toBe(seen);
  });

  it('never sends again the pipelined requests a server closed on after saying Connection: close: they are `closed`', async () => {
    // Answers three requests per connection, the third with Connection: close, then closes: the rest of the pipe is unanswered.
    const srv = await rawServer((n) =>
      n < 3 ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' : n === 3 ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok' : null,
    );
    // Closed model, 2 connections × 8 in the pipe: every connection has requests queued behind its third.
    const r = await runScenario({ target: srv.url, requests: [{ path: '/' }], load: { profile: 'closed', concurrency: 16, duration: '500ms' }, engine: { workers: 1, connections: 2, pipelining: 8 } });
    const s = r.stages[0];
    expect(s.requests).toBeGreaterThan(100);
    // Answered: exactly what the server answered; every other request it received is `closed`, none twice.
    expect(s.requests - s.errorCount).toBe(srv.count());
    expect(s.errors.closed).toBe(s.errorCount);
    expect(s.errorCount).toBeGreaterThan(0);
    expect(srv.received()).toBeLessThanOrEqual(s.requests);
    expect(s.examples.closed).toMatch(/Connection: close/);
  });

  it('bodyIncludes survives a UTF-8 character split across packets', async () => {
    const body = Buffer.from('prix: 10 €, café');
    const cut = body.indexOf(Buffer.from('€')) + 1; // inside the three bytes of €
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', () => {
        s.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body.subarray(0, cut)]));
        setTimeout(() => s.write(body.subarray(cut)), 5);
      });
    });
    const url = await serve(server);
    const r = await runScenario({ target: url, requests: [{ path: '/', expect: { bodyIncludes: '10 €, café' } }], load: load(20), engine: { workers: 1, connections: 1 } });
    const s = r.stages[0];
    expect(s.requests).toBe(20);
    expect(s.errorCount).toBe(0);
  });

  it('heads and bodies split across packets on many connections at once parse whole (one read buffer serves every connection)', async () => {
    // Each connection cuts its response at its own place, head or body, and sends the rest 3 ms later, while the other
    // connections' packets arrive in between: what a connection kept of its first packet must not be overwritten by them.
    const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\nhello from the server');
    let conns = 0;
    let answered = 0;
    const server = net.createServer((s) => {
      const cut = 5 + ((conns++ * 7) % (response.length - 6));
      s.on('error', () => {});
      s.on('data', () => {
        answered++;
        s.write(response.subarray(0, cut));
        setTimeout(() => s.write(response.subarray(cut)), 3);
      });
    });
    const url = await serve(server);
    const r = await runScenario({
      target: url,
      requests: [{ path: '/', expect: { bodyIncludes: 'hello from the server' } }],
      load: { profile: 'closed', concurrency: 12, duration: '600ms' },
      engine: { workers: 1, connections: 12 },
    });
    const s = r.stages[0];
    expect(conns).toBe(12);
    expect(s.requests).toBeGreaterThan(100);
    expect(s.errorCount, JSON.stringify(s.examples)).toBe(0);
    expect(s.requests).toBeLessThanOrEqual(answered);
  });

  it('a HEAD response has no body whatever its Content-Length; 204 and a 103 before the answer are fine', async () => {
    const srv = await rawServer((_n, head) =>
      head.startsWith('HEAD')
        ? 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'
        : 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n',
    );
    const r = await runScenario({
      target: srv.url,
      requests: [
        { name: 'head', method: 'HEAD', path: '/' },
        { name: 'get', path: '/' },
      ],
      load: load(100),
      engine: { workers: 1, connections: 4 },
    });
    const s = r.stages[0];
    expect(s.requests).toBeGreaterThanOrEqual(95);
    expect(s.errorCount).toBe(0);
    expect(Math.abs(s.byName.head.requests - s.byName.get.requests)).toBeLessThanOrEqual(1);
    expect(s.serviceTime.max).toBeLessThan(1000);
  });

  it('a body without a length ends with the connection', async () => {
    // One answer per connection, its body ended by closing the connection. Each request needs a new connection: with
    // too few slots a loaded machine leaves arrivals unsent at the stage's end (counted as unfinished).
    const server = net.createServer((s) => {
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, until close'));
      s.on('error', () => {});
    });
    const url = await serve(server);
    const r = await runScenario({ target: url, requests: [{ path: '/', expect: { bodyIncludes: 'until close' } }], load: load(50), engine: { workers: 1, connections: 8 } });
    const s = r.stages[0];
    expect(s.requests).toBeGreaterThanOrEqual(45);
    expect(s.errorCount).toBe(0);
  });

  it('sends request bodies with their length', async () => {
    const bodies: string[] = [];
    const url = await serve(
      http.createServer((req, res) => {
        let b = '';
        req.on('data', (d) => (b += d));
        req.on('end', () => {
          bodies.push(b);
          const ok = req.headers['content-length'] === String(Buffer.byteLength(b)) && JSON.parse(b).sku === 42;
          res.statusCode = ok ? 200 : 400;
          res.end();
        });
      }),
    );
    const r = await runScenario({
      target: url,
      requests: [{ method: 'POST', path: '/checkout', json: { sku: 42, note: 'é' } }],
      load: load(100),
      engine: { workers: 1, connections: 2, errors4xx: true },
    });
    const s = r.stages[0];
    expect(s.requests).toBeGreaterThanOrEqual(95);
    expect(s.errorCount).toBe(0);
    expect(bodies.length).toBe(s.requests);
  });

  it('a request the server closed on without answering is `closed`, never sent again', async () => {
    // Two answers per connection, then the third request is met with a close (a keep-alive race, forced).
    const racy = await rawServer((n) => (n <= 2 ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' : null));
    let r = await runScenario({ target: racy.url, requests: [{ path: '/' }], load: load(60), engine: { workers: 1, connections: 1 } });
    let s = r.stages[0];
    expect(s.requests).toBe(60);
    expect(racy.received()).toBe(60);
    expect(racy.count()).toBe(s.requests - s.errorCount);
    expect(s.errors.closed).toBe(20);
    expect(s.errorCount).toBe(20);
    // A server that closes on every request: each is sent once and counted once, as closed.
    let seen = 0;
    const closing = await rawServer(() => {
      seen++;
      return null;
    });
    r = await runScenario({ target: closing.url, requests: [{ path: '/' }], load: load(20), engine: { workers: 1, connections: 2 } });
    s = r.stages[0];
    expect(s.requests).toBe(20);
    expect(s.errors.closed).toBe(s.requests);
    expect(seen).toBe(s.requests);
  });
});
