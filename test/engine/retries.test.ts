/**
 * Opt-in retries (`engine.retries`): against a server that resets every other
 * connection, an idempotent request whose attempt was reset is sent again; every
 * reset stays in the errors by kind, the retries are counted apart, and the
 * server's own count is faultline's requests plus its retries. POSTs are never
 * retried, and with retries 0 nothing is sent twice.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { normalize } from '../../src/config/scenario.ts';
import { UsageError } from '../../src/errors.ts';
import { runScenario, cli } from '../helpers/run.ts';
import type { Result } from '../../src/result.ts';
import type { ScenarioInput } from '../../src/config/schema.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/**
 * Counts every request it reads. Even connections are reset (RST) on their first request; odd ones answer it
 * and close (FIN), so each request opens a fresh connection and half of them are reset.
 */
async function resettingServer() {
  let received = 0;
  let resets = 0;
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    const conn = ++conns;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
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
        if (over) continue;
        over = true;
        if (conn % 2 === 0) {
          resets++;
          s.resetAndDestroy();
          return;
        }
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        s.end();
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
  return { url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, received: () => received, resets: () => resets };
}

function totals(r: Result) {
  const ws = r.timeline.windows;
  const byKind: Record<string, number> = {};
  for (const w of ws) for (const [k, n] of Object.entries(w.overall.byKind)) byKind[k] = (byKind[k] ?? 0) + (n ?? 0);
  const byNameRetries = ws.reduce((a, w) => a + Object.values(w.byName).reduce((b, s) => b + (s.retries ?? 0), 0), 0);
  return {
    due: ws.reduce((a, w) => a + w.offered, 0),
    requests: ws.reduce((a, w) => a + w.overall.requests, 0),
    errors: ws.reduce((a, w) => a + w.overall.errors, 0),
    retries: ws.reduce((a, w) => a + (w.overall.retries ?? 0), 0),
    byNameRetries,
    byKind,
  };
}

const load = (method: string, retries: number): ScenarioInput => ({
  target: 'http://127.0.0.1:1',
  requests: [{ method, path: '/item', ...(method === 'POST' ? { json: { sku: 1 } } : {}) }],
  load: { profile: 'constant', rate: 200, duration: '1s' },
  engine: { workers: 1, connections: 4, timeout: '2s', retries },
});

describe('opt-in retries', () => {
  it('GETs with retries 1: every reset is an error of its kind, each retried once, server count = requests + retries', async () => {
    const srv = await resettingServer();
    const r = await runScenario({ ...load('GET', 1), target: srv.url });
    const t = totals(r);
    // The stage's summary carries them too (what the reports read).
    expect(r.stages.reduce((a, s) => a + (s.retries ?? 0), 0)).toBe(t.retries);
    expect(r.meta.retries).toBe(1);
    expect(t.due).toBe(200);
    expect(t.requests).toBe(200);
    expect(t.byKind.unfinished ?? 0).toBe(0);
    expect(t.retries).toBeGreaterThan(30);
    expect(t.byNameRetries).toBe(t.retries);
    // Every attempt reached the server once: the requests, plus the attempts sent again.
    expect(srv.received()).toBe(t.requests + t.retries);
    // Every reset the server made is in the result, by its kind — retried or not.
    expect(t.byKind.reset).toBe(srv.resets());
    // Connection failures = requests that failed in the end + attempts that were retried (one failure each).
    expect((t.byKind.reset ?? 0) + (t.byKind.closed ?? 0)).toBe(t.errors + t.retries);
    // With one retry, a request fails only when its retry was reset too: fewer failures than retries.
    expect(t.errors).toBeLessThan(t.retries);
  });

  it('POSTs with retries 1: nothing is retried, server count = requests', async () => {
    const srv = await resettingServer();
    const r = await runScenario({ ...load('POST', 1), target: srv.url });
    const t = totals(r);
    expect(t.requests).toBe(200);
    expect(t.retries).toBe(0);
    expect(srv.received()).toBe(t.requests);
    expect(t.byKind.reset).toBe(srv.resets());
    expect(t.byKind.reset).toBeGreaterThan(30);
    expect(r.timeline.events.some((e) => e.type === 'note' && /retries 1 has no effect/.test(e.message))).toBe(true);
  });

  it('GETs with retries 0: nothing is sent twice, server count = requests', async () => {
    const srv = await resettingServer();
    const r = await runScenario({ ...load('GET', 0), target: srv.url });
    const t = totals(r);
    expect(t.requests).toBe(200);
    expect(t.retries).toBe(0);
    expect(r.meta.retries).toBeUndefined();
    expect(srv.received()).toBe(t.requests);
    expect(t.byKind.reset).toBe(srv.resets());
    // Every failure is a connection failure, each counted once (a request sent just as its kept-alive connection closed is `closed`).
    expect(t.errors).toBe((t.byKind.reset ?? 0) + (t.byKind.closed ?? 0));
  });

  it('a refused port with retries 2: each request tried three times, all three refusals in the errors, the request failed once', async () => {
    // A port that was just listening and is closed now: connecting is refused.
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const t = totals(await runScenario({ ...load('GET', 2), target: `http://127.0.0.1:${port}`, load: { profile: 'constant', rate: 50, duration: '1s' } }));
    expect(t.requests).toBe(50);
    expect(t.errors).toBe(50);
    expect(t.retries).toBe(100);
    expect(t.byKind.connect_refused).toBe(150);
  });

  it('validation: out of range is a usage error; only non-idempotent requests is a warning', async () => {
    expect(() => normalize(load('GET', 6))).toThrow(UsageError);
    expect(() => normalize(load('GET', -1))).toThrow(/engine\.retries/);
    expect(normalize(load('POST', 2)).warnings.some((w) => /retries 2 has no effect/.test(w))).toBe(true);
    expect(normalize(load('GET', 2)).warnings.some((w) => /retries/.test(w))).toBe(false);
    expect(normalize(load('GET', 3)).engine.retries).toBe(3);
    const c = await cli(['run', '--url', 'http://127.0.0.1:20801/', '--rate', '10', '--duration', '1s', '--retries', '9'], { timeoutMs: 20_000 });
    expect(c.code).toBe(2);
    expect(c.stderr.trim().split('\n')).toHaveLength(1);
    expect(c.stderr).toMatch(/retries/);
  });
});
