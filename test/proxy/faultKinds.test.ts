import { afterEach, describe, expect, it } from 'vitest';
import { faultKinds } from '../../src/faults/index.ts';
import { proxyFaultKinds } from '../../src/faults/kinds/proxy.ts';
import type { FaultContext, FaultSpecBase, Journal, JournalEntry } from '../../src/faults/types.ts';
import type { ProxyRegistry } from '../../src/proxy/types.ts';
import { startProxyApi } from '../../src/proxy/api.ts';
import type { ProxyApi } from '../../src/proxy/api.ts';
import { startProxies } from '../../src/proxy/schema.ts';
import type { Proxies } from '../../src/proxy/registry.ts';
import { connect, echoServer, portOf, roundTrip } from './helpers.ts';
import type { Closable } from './helpers.ts';

/** A journal in memory: what was recorded and is not yet cleared. */
class MemoryJournal implements Journal {
  readonly path = ':memory:';
  readonly open = new Map<string, JournalEntry>();
  readonly log: string[] = [];
  private n = 0;
  async record(e: Omit<JournalEntry, 'id' | 'at'>): Promise<string> {
    const id = `j${++this.n}`;
    this.open.set(id, { ...e, id, at: Date.now() });
    this.log.push(`record ${id}`);
    return id;
  }
  async clear(id: string): Promise<void> {
    this.open.delete(id);
    this.log.push(`clear ${id}`);
  }
}

function context(proxies: ProxyRegistry, journal: Journal): FaultContext {
  return {
    proxies,
    services: { get: () => undefined, names: () => [] } as unknown as FaultContext['services'],
    facts: {},
    random: Math.random,
    journal,
    log: () => {},
  };
}

/** Parses params the way the config will: with the kind's own schema. */
function spec(kind: string, target: string | undefined, raw: Record<string, unknown>, probability?: number): FaultSpecBase {
  return { name: `${kind} fault`, kind, target, probability, params: faultKinds[kind].params.parse(raw) };
}

describe('proxy fault kinds', () => {
  let echo: Closable;
  let proxies: Proxies | undefined;
  let api: ProxyApi | undefined;
  afterEach(async () => {
    await proxies?.closeAll();
    await api?.close();
    await echo?.close();
    proxies = api = undefined;
  });

  it('has every kind the design names', () => {
    expect([...proxyFaultKinds.map((k) => k.name), 'toxiproxy'].sort()).toEqual(
      ['bandwidth', 'body-patch', 'down', 'http-abort', 'http-delay', 'http-error', 'latency', 'limit_data', 'malformed-body', 'reset_peer', 'slicer', 'slow_close', 'timeout', 'toxiproxy'].sort(),
    );
  });

  it('takes each kind and the proxy mode it needs from the toxic and HTTP-fault tables', () => {
    expect(Object.fromEntries(proxyFaultKinds.map((k) => [k.name, k.proxyMode]))).toEqual({
      latency: 'tcp', bandwidth: 'tcp', down: 'any', timeout: 'tcp', reset_peer: 'tcp', slow_close: 'tcp', slicer: 'tcp', limit_data: 'tcp',
      'http-error': 'http', 'http-abort': 'http', 'http-delay': 'http', 'malformed-body': 'http', 'body-patch': 'http',
    });
    for (const [name, kind] of Object.entries(faultKinds)) expect(kind.name).toBe(name);
  });

  it('params are strict and take faultline units', () => {
    const lat = faultKinds.latency.params;
    expect(lat.parse({ latency: '800ms', jitter: '0.2s' })).toEqual({ latency: 800, jitter: 200 });
    expect(lat.safeParse({ latency: '800ms', jiter: 1 }).success).toBe(false);
    expect(lat.safeParse({ latency: 'slow' }).success).toBe(false);
    expect(faultKinds.bandwidth.params.parse({ rate: '64KB/s' })).toEqual({ rate: 64 });
    expect(faultKinds.slicer.params.parse({ average_size: '1KB', delay: '2ms' })).toEqual({ average_size: 1000, delay: 2 });
    expect(faultKinds.toxiproxy.params.safeParse({ api: 'http://203.0.113.3:8474', proxy: 'p', toxic: { type: 'latency' } }).success).toBe(false);
  });

  it('latency: start() adds the toxic with probability as toxicity, stop() removes it, twice is fine', async () => {
    echo = await echoServer();
    proxies = await startProxies({ payment: { listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` } });
    const journal = new MemoryJournal();
    const fault = faultKinds.latency.create(spec('latency', 'payment', { latency: '120ms' }, 1), context(proxies, journal));
    const s = await connect(portOf(proxies.get('payment')!.listen));
    await fault.start();
    expect(proxies.get('payment')!.toxics()).toMatchObject([{ type: 'latency', toxicity: 1, attributes: { latency: 120 } }]);
    expect(await roundTrip(s)).toBeGreaterThanOrEqual(118);
    await fault.stop();
    await fault.stop();
    expect(proxies.get('payment')!.toxics()).toEqual([]);
    expect(await roundTrip(s)).toBeLessThan(80);
    s.destroy();
  });

  it('refuses a kind on the wrong proxy mode, and an unknown proxy', async () => {
    echo = await echoServer();
    proxies = await startProxies({ web: { listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}`, mode: 'http' } });
    const ctx = context(proxies, new MemoryJournal());
    await expect(faultKinds.latency.create(spec('latency', 'web', { latency: 10 }), ctx).start()).rejects.toThrow(/needs a tcp proxy/);
    await expect(faultKinds['http-error'].create(spec('http-error', 'nope', {}), ctx).start()).rejects.toThrow(/no proxy named "nope"/);
    const f = faultKinds['http-error'].create(spec('http-error', 'web', { status: 503, path: '/pay' }, 0.5), ctx);
    await f.start();
    expect(proxies.get('web')!.toxics()).toMatchObject([{ type: 'http-error', toxicity: 0.5, attributes: { status: 503, path: '/pay' } }]);
    await f.stop();
    expect(proxies.get('web')!.toxics()).toEqual([]);
  });

  it('down: the proxy refuses while the fault runs', async () => {
    echo = await echoServer();
    proxies = await startProxies({ payment: { listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` } });
    const port = portOf(proxies.get('payment')!.listen);
    const f = faultKinds.down.create(spec('down', 'payment', {}), context(proxies, new MemoryJournal()));
    await f.start();
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await f.stop();
    (await connect(port)).destroy();
  });

  it('toxiproxy: drives a Toxiproxy API, journals the undo before the toxic and clears it after removal', async () => {
    echo = await echoServer();
    api = await startProxyApi({ host: '127.0.0.1', port: 0 });
    const created = await fetch(`${api.url}/proxies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'payment', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` }) });
    expect(created.status).toBe(201);
    const journal = new MemoryJournal();
    // The journal must already hold the entry when the server sees the toxic.
    let openWhenAdded = -1;
    const target = api.proxies.get('payment')!;
    const addToxic = target.addToxic.bind(target);
    target.addToxic = async (req) => {
      openWhenAdded = journal.open.size;
      return addToxic(req);
    };
    const raw = { api: api.url, proxy: 'payment', toxic: { type: 'latency', attributes: { latency: 100 }, stream: 'downstream' } };
    const fault = faultKinds.toxiproxy.create(spec('toxiproxy', undefined, raw, 1), context({ get: () => undefined, names: () => [], closeAll: async () => {} }, journal));
    await fault.start();
    expect(openWhenAdded).toBe(1);
    const [entry] = journal.open.values();
    expect(entry).toMatchObject({ fault: 'toxiproxy fault', kind: 'toxiproxy', undo: { type: 'http', method: 'DELETE', url: `${api.url}/proxies/payment/toxics/faultline_toxiproxy_fault` } });
    expect(target.toxics()).toMatchObject([{ name: 'faultline_toxiproxy_fault', type: 'latency', attributes: { latency: 100 } }]);
    const s = await connect(portOf(target.listen));
    expect(await roundTrip(s)).toBeGreaterThanOrEqual(98);
    await fault.stop();
    expect(target.toxics()).toEqual([]);
    expect(journal.open.size).toBe(0);
    expect(journal.log).toEqual(['record j1', 'clear j1']);
    await fault.stop(); // idempotent
    expect(await roundTrip(s)).toBeLessThan(80);
    s.destroy();
  });

  it('toxiproxy: a refused toxic leaves no journal entry', async () => {
    api = await startProxyApi({ host: '127.0.0.1', port: 0 });
    const journal = new MemoryJournal();
    const raw = { api: api.url, proxy: 'missing', toxic: { type: 'latency', attributes: { latency: 1 } } };
    const fault = faultKinds.toxiproxy.create(spec('toxiproxy', undefined, raw), context({ get: () => undefined, names: () => [], closeAll: async () => {} }, journal));
    await expect(fault.start()).rejects.toThrow(/404 .*proxy not found/);
    expect(journal.open.size).toBe(0);
    await fault.stop();
  });
});

describe('startProxies', () => {
  it('a taken listen port: one-line UsageError, and the proxies already started are closed', async () => {
    const echo = await echoServer();
    const taken = await echoServer();
    const free = await echoServer();
    const freePort = free.port;
    await free.close();
    try {
      const err = await startProxies({
        first: { listen: `127.0.0.1:${freePort}`, upstream: `127.0.0.1:${echo.port}` },
        payment: { listen: `127.0.0.1:${taken.port}`, upstream: `127.0.0.1:${echo.port}` },
      }).catch((e: Error) => e);
      expect(err).toMatchObject({ name: 'UsageError', message: `proxies.payment.listen: 127.0.0.1:${taken.port} is already in use` });
      await expect(connect(freePort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await taken.close();
      await echo.close();
    }
  });

  it('rejects unknown keys and non-loopback addresses', async () => {
    const { proxySpecSchema } = await import('../../src/proxy/schema.ts');
    expect(proxySpecSchema.safeParse({ listen: '127.0.0.1:1', upstream: '127.0.0.1:2', extra: 1 }).success).toBe(false);
    expect(proxySpecSchema.safeParse({ listen: '0.0.0.0:1', upstream: '127.0.0.1:2' }).success).toBe(false);
    expect(proxySpecSchema.safeParse({ listen: '127.0.0.1:1', upstream: 'example.com:80' }).success).toBe(false);
    expect(proxySpecSchema.parse({ listen: 'localhost:1', upstream: '[::1]:2' })).toEqual({ listen: 'localhost:1', upstream: '[::1]:2', mode: 'tcp' });
  });
});
