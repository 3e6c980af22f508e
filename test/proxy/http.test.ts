import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxies } from '../../src/proxy/schema.ts';
import type { Proxies } from '../../src/proxy/registry.ts';

const BODY = JSON.stringify({ ok: true, items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}` })) });

function upstream(): Promise<{ port: number; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(BODY);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : 0,
        hits: () => hits,
        close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
      });
    }),
  );
}

type Outcome = { status: number; body: string } | { error: string };

async function request(base: string, path = '/products', method = 'GET'): Promise<Outcome> {
  try {
    const res = await fetch(base + path, { method, signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    return { error: String((e as Error).cause ?? e) };
  }
}

async function many(n: number, f: () => Promise<Outcome>, concurrency = 20): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        out.push(await f());
      }
    }),
  );
  return out;
}

/** Expected p·n ± 4 binomial sigmas: a correct proxy fails this about once in 16,000 runs. */
function within4Sigma(count: number, n: number, p: number): void {
  const sigma = Math.sqrt(n * p * (1 - p));
  expect(count).toBeGreaterThanOrEqual(n * p - 4 * sigma);
  expect(count).toBeLessThanOrEqual(n * p + 4 * sigma);
}

describe('HTTP-mode proxy faults', () => {
  let up: Awaited<ReturnType<typeof upstream>>;
  let proxies: Proxies;
  afterEach(async () => {
    await proxies?.closeAll();
    await up?.close();
  });

  async function setup(): Promise<{ base: string; proxy: NonNullable<ReturnType<Proxies['get']>> }> {
    up = await upstream();
    proxies = await startProxies({ web: { listen: '127.0.0.1:0', upstream: `127.0.0.1:${up.port}`, mode: 'http' } });
    const proxy = proxies.get('web')!;
    return { base: `http://${proxy.listen}`, proxy };
  }

  it('forwards untouched without faults', async () => {
    const { base } = await setup();
    const r = await request(base);
    expect(r).toEqual({ status: 200, body: BODY });
  });

  it('http-error at probability 0.3 answers 503 for 0.3 ± 4σ of 400 requests, and never reaches upstream for them', async () => {
    const { base, proxy } = await setup();
    await proxy.addToxic({ type: 'http-error', toxicity: 0.3, attributes: { status: 503, body: '{"error":"injected"}' } });
    const n = 400;
    const rs = await many(n, () => request(base));
    const errors = rs.filter((r) => 'status' in r && r.status === 503);
    const oks = rs.filter((r) => 'status' in r && r.status === 200 && r.body === BODY);
    within4Sigma(errors.length, n, 0.3);
    expect(errors.length + oks.length).toBe(n);
    expect((errors[0] as { body: string }).body).toBe('{"error":"injected"}');
    expect(up.hits()).toBe(oks.length);
  });

  it('http-abort at probability 0.5 cuts 0.5 ± 4σ of 400 requests', async () => {
    const { base, proxy } = await setup();
    await proxy.addToxic({ type: 'http-abort', toxicity: 0.5 });
    const n = 400;
    const rs = await many(n, () => request(base));
    const failed = rs.filter((r) => 'error' in r).length;
    within4Sigma(failed, n, 0.5);
    expect(rs.filter((r) => 'status' in r && r.status === 200).length).toBe(n - failed);
  });

  it('http-delay delays matching requests only (method and path prefix match)', async () => {
    const { base, proxy } = await setup();
    await proxy.addToxic({ type: 'http-delay', attributes: { delay: 150, method: 'post', path: '/checkout' } });
    const timed = async (path: string, method: string) => {
      const t0 = performance.now();
      const r = await request(base, path, method);
      expect(r).toMatchObject({ status: 200 });
      return performance.now() - t0;
    };
    expect(await timed('/checkout/42?x=1', 'POST')).toBeGreaterThanOrEqual(145);
    expect(await timed('/checkout', 'POST')).toBeGreaterThanOrEqual(145);
    expect(await timed('/checkout', 'GET')).toBeLessThan(100);
    expect(await timed('/checkouts', 'POST')).toBeLessThan(100);
    expect(await timed('/products', 'POST')).toBeLessThan(100);
  });

  it('path globs: * matches any characters', async () => {
    const { base, proxy } = await setup();
    await proxy.addToxic({ type: 'http-error', attributes: { status: 500, path: '/api/*/pay' } });
    expect(await request(base, '/api/v1/pay')).toMatchObject({ status: 500 });
    expect(await request(base, '/api/v1/x/pay')).toMatchObject({ status: 500 });
    expect(await request(base, '/api/v1/pay/now')).toMatchObject({ status: 200 });
  });

  it('malformed-body: invalid-json fails to parse, truncate halves the body with a valid Content-Length', async () => {
    const { base, proxy } = await setup();
    await proxy.addToxic({ name: 'bad', type: 'malformed-body', attributes: { mode: 'invalid-json' } });
    const r1 = (await request(base)) as { status: number; body: string };
    expect(r1.status).toBe(200);
    expect(() => JSON.parse(r1.body)).toThrow();
    await proxy.updateToxic('bad', { attributes: { mode: 'truncate' } });
    const r2 = (await request(base)) as { status: number; body: string };
    expect(r2.body).toBe(BODY.slice(0, Math.floor(BODY.length / 2)));
    expect(() => JSON.parse(r2.body)).toThrow();
  });

  it('probability 0 never and 1 always', async () => {
    const { base, proxy } = await setup();
    await proxy.addToxic({ name: 'e', type: 'http-error', toxicity: 0, attributes: { status: 503 } });
    expect((await many(100, () => request(base))).every((r) => 'status' in r && r.status === 200)).toBe(true);
    await proxy.updateToxic('e', { toxicity: 1 });
    expect((await many(100, () => request(base))).every((r) => 'status' in r && r.status === 503)).toBe(true);
  });

  it('takes no TCP toxics', async () => {
    const { proxy } = await setup();
    await expect(proxy.addToxic({ type: 'latency', attributes: { latency: 10 } })).rejects.toThrow(/unknown toxic type for a http proxy/);
  });
});
