/**
 * The conformance table (parse-table.ts) through both transports on real sockets:
 * each raw response is served by a TCP server on loopback, once to each transport
 * of the worker's table (faultline's own HTTP/1.1 client, undici), as the worker
 * configures them, and both must name the outcome alike
 * (errors by the worker's classifier). Where llhttp decides otherwise the table
 * says so, and why.
 */
import { describe, it, expect, afterAll } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { TRANSPORTS, type TransportName } from '../../src/engine/transports/index.ts';
import type { Exchange } from '../../src/engine/transport.ts';
import { classify } from '../../src/engine/classify.ts';
import { CASES, type Case, type Outcome } from './parse-table.ts';

const WAIT_MS = 600;
const servers: net.Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** A server that answers the first request on each connection with `c.raw`, then closes, resets or stays open. */
async function serve(c: Case): Promise<{ port: number; requests: () => number }> {
  let requests = 0;
  const server = net.createServer((s) => {
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      buf = '';
      requests++;
      const raw = Buffer.from(c.raw, 'latin1');
      if (c.after === 'reset') s.write(raw, () => s.resetAndDestroy());
      else if (c.after === 'close') s.end(raw);
      else s.write(raw);
    });
    // Sockets left open (timeout cases) are closed when the test ends.
    setTimeout(() => s.destroy(), WAIT_MS * 3).unref();
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, requests: () => requests };
}

type Err = Error & { code?: string; cause?: { code?: string } };

/** One request through a transport of the worker's table, configured as the worker configures it. */
function via(name: TransportName, port: number, method: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const t = TRANSPORTS[name]({ target: new URL(`http://127.0.0.1:${port}`), connections: 1, pipelining: 1, connectTimeoutMs: 2000 });
    let status = 0;
    let body = 0;
    let over = false;
    const finish = (o: Outcome) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      t.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ error: 'timeout' }), WAIT_MS);
    const x: Exchange = {
      handle: undefined,
      wantsBody: true,
      head: method === 'HEAD',
      writtenAt: 0,
      firstByteAt: 0,
      onConnected() {},
      onRequestStart(h: unknown) {
        x.handle = h;
      },
      onResponseStart(_c, s) {
        status = s;
      },
      onResponseData(_c, chunk) {
        body += chunk.length;
      },
      onResponseEnd() {
        finish({ ok: true, status, body });
      },
      onResponseError(_c, err: Err) {
        finish({ error: classify(err) as 'malformed' });
      },
    };
    t.send(0, x, t.prepare({ method, path: '/', headers: {}, body: null }));
  });
}

describe('the conformance table through both transports, on real sockets', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const method = c.method ?? 'GET';
      const a = await serve(c);
      const own = await via('http1', a.port, method);
      expect(own, "faultline's client").toEqual(c.expect);
      expect(a.requests(), 'sent once').toBe(1);
      const b = await serve(c);
      const theirs = await via('undici', b.port, method);
      expect(theirs, 'undici').toEqual(c.undici?.expect ?? c.expect);
      expect(b.requests(), 'sent once').toBe(1);
    });
  }
});
