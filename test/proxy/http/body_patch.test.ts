import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpProxy } from '../../../src/proxy/http.ts';
import { bodyPatch } from '../../../src/proxy/http/body_patch.ts';

const DOC = { id: 7, status: 'paid', amount: 12.5, ok: true, note: null, items: [{ sku: 'a', price: 3 }, { sku: 'b', price: 4 }], meta: { tags: ['x'] } };

/** An upstream answering /json with DOC and /text with plain text; counts what reached it. */
function upstream(): Promise<{ port: number; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    if (req.url === '/text') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('plain words');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(DOC));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address() as { port: number };
      resolve({ port: a.port, hits: () => hits, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) });
    }),
  );
}

async function get(base: string, path = '/json'): Promise<{ status: number; text: string; length: string | null }> {
  const res = await fetch(base + path, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, length: res.headers.get('content-length'), text: await res.text() };
}

describe('body-patch: JSON fields nulled, removed, retyped, truncated', () => {
  let up: Awaited<ReturnType<typeof upstream>> | undefined;
  let proxy: HttpProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await up?.close();
  });
  async function setup(): Promise<string> {
    up = await upstream();
    proxy = new HttpProxy({ name: 'dep', listen: '127.0.0.1:0', upstream: `127.0.0.1:${up.port}` });
    await proxy.start();
    return `http://${proxy.listen}`;
  }

  it('null: named fields become null, nested and through arrays; framing stays valid', async () => {
    const base = await setup();
    await proxy!.addToxic({ name: 'p', type: 'body-patch', attributes: { op: 'null', fields: ['status', 'items.*.price', 'missing.deep'] } });
    const r = await get(base);
    expect(r.status).toBe(200);
    expect(Number(r.length)).toBe(Buffer.byteLength(r.text));
    expect(JSON.parse(r.text)).toEqual({ ...DOC, status: null, items: [{ sku: 'a', price: null }, { sku: 'b', price: null }] });
  });

  it('remove: keys deleted, array items removed', async () => {
    const base = await setup();
    await proxy!.addToxic({ name: 'p', type: 'body-patch', attributes: { op: 'remove', fields: ['amount', 'items.0', 'meta.tags.*'] } });
    const doc = JSON.parse((await get(base)).text);
    expect(doc).not.toHaveProperty('amount');
    expect(doc.items).toEqual([{ sku: 'b', price: 4 }]);
    expect(doc.meta.tags).toEqual([]);
  });

  it('retype: every JSON type changes to another (the schema-mismatch case)', async () => {
    const base = await setup();
    await proxy!.addToxic({ name: 'p', type: 'body-patch', attributes: { op: 'retype', fields: ['id', 'status', 'ok', 'note', 'items', 'meta'] } });
    const doc = JSON.parse((await get(base)).text);
    expect(doc.id).toBe('7');
    expect(doc.status).toBe(4); // "paid" is not numeric: its length
    expect(doc.ok).toBe('true');
    expect(doc.note).toBe(0);
    expect(doc.items).toEqual({ 0: { sku: 'a', price: 3 }, 1: { sku: 'b', price: 4 } });
    expect(doc.meta).toEqual([['x']]);
  });

  it('truncate: the body ends inside the named value, with a Content-Length that matches what is sent', async () => {
    const base = await setup();
    await proxy!.addToxic({ name: 'p', type: 'body-patch', attributes: { op: 'truncate', fields: ['status'] } });
    const r = await get(base);
    expect(Number(r.length)).toBe(Buffer.byteLength(r.text));
    expect(r.text.endsWith('"status":"pa')).toBe(true);
    expect(() => JSON.parse(r.text)).toThrow();
  });

  it('counts its effect: patched, not JSON, no such field — and a non-JSON body is forwarded untouched', async () => {
    const base = await setup();
    await proxy!.addToxic({ name: 'p', type: 'body-patch', attributes: { op: 'null', fields: ['status'], path: '/json' } });
    await proxy!.addToxic({ name: 'q', type: 'body-patch', attributes: { op: 'null', fields: ['nothing'] } });
    for (let i = 0; i < 5; i++) await get(base);
    expect((await get(base, '/text')).text).toBe('plain words');
    const p = proxy!.toxicEffect('p');
    const q = proxy!.toxicEffect('q');
    expect(p).toEqual({ hits: 5, patched: 5, fields: 5, notJson: 0, noField: 0 });
    expect(q).toEqual({ hits: 6, patched: 0, fields: 0, notJson: 1, noField: 5 });
    expect(up!.hits()).toBe(6);
  });

  it('refuses a patch without fields (except truncate) and an unknown op', () => {
    expect(() => bodyPatch.create({ op: 'null' })).toThrow(/needs fields/);
    expect(bodyPatch.attributes.safeParse({ op: 'zero', fields: ['a'] }).success).toBe(false);
  });
});

describe('body-patch as a fault kind', () => {
  it('reports what it patched, and "no effect" when the responses were not JSON', async () => {
    const { runScenario } = await import('../../helpers/run.ts');
    const { countingServer } = await import('../../helpers/servers.ts');
    const net = await import('node:net');
    const server = await countingServer(200, 'not json');
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    try {
      const r = await runScenario({
        target: `http://127.0.0.1:${port}`,
        requests: [{ path: '/' }],
        load: { profile: 'constant', rate: 100, duration: '1s' },
        proxies: { dep: { listen: `127.0.0.1:${port}`, upstream: `127.0.0.1:${server.port}`, mode: 'http' } },
        faults: [{ name: 'nulls', kind: 'body-patch', target: 'dep', op: 'null', fields: ['status'], duration: '500ms' }],
      });
      const stop = r.timeline.events.find((e) => e.type === 'fault-stop') as { effect?: { noEffect: boolean; values: Record<string, number> } };
      expect(stop.effect?.noEffect).toBe(true);
      expect(stop.effect?.values.notJson).toBeGreaterThan(20);
      expect(stop.effect?.values.patched).toBe(0);
    } finally {
      await server.close();
    }
  });
});
