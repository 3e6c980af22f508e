import { afterEach, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startProxyApi } from '../../src/proxy/api.ts';
import type { ProxyApi } from '../../src/proxy/api.ts';
import { runProxyCommand } from '../../src/proxy/command.ts';
import { connect, echoServer, median, portOf, roundTrip } from './helpers.ts';
import type { Closable } from './helpers.ts';

// The API is tested with toxiproxy-node-client, a client written against the real Toxiproxy.
describe('Toxiproxy-compatible API', () => {
  let api: ProxyApi;
  let echo: Closable;
  afterEach(async () => {
    await api?.close();
    await echo?.close();
  });

  it('works with toxiproxy-node-client: create a proxy, add and remove a latency toxic, reset', async () => {
    echo = await echoServer();
    api = await startProxyApi({ host: '127.0.0.1', port: 0 });
    const client = new Toxiproxy(api.url);
    expect(JSON.parse(await client.getVersion())).toHaveProperty('version');
    const proxy = await client.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
    expect(proxy.enabled).toBe(true);
    const port = portOf(proxy.listen);
    expect(port).toBeGreaterThan(0);
    const s = await connect(port);
    const rtt = async () => median([await roundTrip(s), await roundTrip(s), await roundTrip(s)]);
    const base = await rtt();

    const toxic = await proxy.addToxic({ type: 'latency', attributes: { latency: 100, jitter: 0 } } as never);
    expect(toxic.name).toBe('latency_downstream');
    expect(toxic.stream).toBe('downstream');
    expect(toxic.toxicity).toBe(1);
    expect((await rtt()) - base).toBeGreaterThanOrEqual(98);
    expect((await proxy.getToxic('latency_downstream')).attributes).toEqual({ latency: 100, jitter: 0 });

    const updated = await toxic.update({ attributes: { latency: 200 } } as never);
    expect(updated.attributes).toEqual({ latency: 200, jitter: 0 });
    expect((await rtt()) - base).toBeGreaterThanOrEqual(198);

    await toxic.remove();
    expect((await rtt()) - base).toBeLessThan(30);

    await proxy.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 100 } } as never);
    await proxy.update({ enabled: false } as never);
    expect((await client.get('echo')).enabled).toBe(false);
    await client.reset();
    const after = await client.get('echo');
    expect(after.enabled).toBe(true);
    const all = await client.getAll();
    expect(Object.keys(all)).toEqual(['echo']);
    const s2 = await connect(port);
    expect(await roundTrip(s2)).toBeLessThan(80); // reset removed the toxic
    s.destroy();
    s2.destroy();

    await proxy.remove();
    expect(await client.getAll()).toEqual({});
  });

  it('speaks Toxiproxy errors and populate', async () => {
    echo = await echoServer();
    api = await startProxyApi({ host: '127.0.0.1', port: 0 });
    const j = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(api.url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, body: (r.status === 204 ? undefined : await r.json()) as any };
    };
    expect(await j('GET', '/proxies/nope')).toEqual({ status: 404, body: { error: 'proxy not found', status: 404 } });
    const pop = await j('POST', '/populate', [
      { name: 'a', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` },
      { name: 'b', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}`, enabled: false },
    ]);
    expect(pop.status).toBe(201);
    expect(pop.body.proxies.map((p: { name: string; enabled: boolean }) => [p.name, p.enabled])).toEqual([['a', true], ['b', false]]);
    expect((await j('POST', '/proxies', { name: 'a', upstream: `127.0.0.1:${echo.port}` })).status).toBe(409);
    expect((await j('POST', '/proxies', { name: 'c', listen: '203.0.113.1:1', upstream: `127.0.0.1:${echo.port}` })).status).toBe(400);
    expect((await j('POST', '/proxies/a/toxics', { type: 'nonsense' })).status).toBe(400);
    expect((await j('POST', '/proxies/a/toxics', { type: 'latency', attributes: { latency: 'slow' } })).status).toBe(400);
    const t = await j('POST', '/proxies/a/toxics', { name: 'lag', type: 'latency', stream: 'upstream', toxicity: 0.5, attributes: { latency: 10 } });
    expect(t).toEqual({ status: 200, body: { name: 'lag', type: 'latency', stream: 'upstream', toxicity: 0.5, attributes: { latency: 10, jitter: 0 } } });
    expect((await j('POST', '/proxies/a/toxics', { name: 'lag', type: 'latency' })).status).toBe(409);
    expect((await j('GET', '/proxies/a/toxics')).body).toHaveLength(1);
    expect((await j('DELETE', '/proxies/a/toxics/lag')).status).toBe(204);
    expect((await j('DELETE', '/proxies/a/toxics/lag')).status).toBe(404);
    expect((await j('DELETE', '/proxies/b')).status).toBe(204);
    expect((await j('PUT', '/proxies')).status).toBe(405);
  });

  it('runProxyCommand serves the API with proxies from --config and closes everything at the end', async () => {
    echo = await echoServer();
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/faultline-proxy-`);
    const config = `${dir}/proxies.json`;
    await writeFile(config, JSON.stringify([{ name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` }]));
    // A free port for the API: listen on 0, note it, close.
    const probe = await echoServer();
    const apiPort = probe.port;
    await probe.close();
    let stop!: () => void;
    const lines: string[] = [];
    const running = runProxyCommand({ api: `127.0.0.1:${apiPort}`, config, log: (l) => lines.push(l), until: new Promise<void>((r) => (stop = r)) });
    const deadline = Date.now() + 5000;
    while (!lines.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const all = await new Toxiproxy(`http://127.0.0.1:${apiPort}`).getAll();
    const port = portOf(all.echo.listen);
    const s = await connect(port);
    expect(await roundTrip(s)).toBeLessThan(100);
    s.destroy();
    stop();
    await running;
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(connect(apiPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await rm(dir, { recursive: true });
  });
});
