/**
 * Toxiproxy parity, through the independent `toxiproxy-node-client` package
 * against a real `faultline proxy --api` process: every method of the client
 * (Toxiproxy, Proxy, Toxic), toxics of every type with the attribute values
 * Toxiproxy's own docs and tests use, updates by PATCH (what Toxiproxy's Go
 * client sends) and by POST (what this client sends), reset and populate.
 * The one documented difference: faultline refuses a non-loopback upstream.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Toxiproxy, type ICreateToxicBody } from 'toxiproxy-node-client';
import { BIN } from '../helpers/run.ts';
import { freePort, waitFor } from '../fixtures/proc.ts';
import { collect, connect, echoServer, pattern, portOf, roundTrip, sleep, type Closable } from './helpers.ts';

let child: ChildProcess;
let url: string;
let echo: Closable;
let stderr = '';

beforeAll(async () => {
  echo = await echoServer();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [BIN, 'proxy', '--api', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const up = await waitFor(async () => (await fetch(`${url}/version`).catch(() => undefined))?.ok === true, 20_000, 100);
  expect(up, stderr).toBe(true);
}, 30_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await Promise.race([once(child, 'exit'), sleep(5000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await echo?.close();
});

const json = (method: string, path: string, body: unknown) => fetch(url + path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('toxiproxy-node-client against faultline proxy --api', () => {
  it('Toxiproxy: getVersion, getApi, createProxy, get, getAll, populate, reset', async () => {
    const client = new Toxiproxy(url);
    expect(client.getApi()).toBeDefined();
    expect(JSON.parse(await client.getVersion())).toHaveProperty('version');
    const p = await client.createProxy({ name: 'c1', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
    expect(p.toJson()).toMatchObject({ name: 'c1', upstream: `127.0.0.1:${echo.port}`, enabled: true });
    expect(p.getToxiproxy()).toBe(client);
    expect(p.getHost()).toBe(url);
    expect(p.getPath()).toBe(`${url}/proxies/c1`);
    expect((await client.get('c1')).name).toBe('c1');
    expect(Object.keys(await client.getAll())).toContain('c1');
    const populated = await client.populate([
      { name: 'c1', listen: p.listen, upstream: `127.0.0.1:${echo.port}`, enabled: true },
      { name: 'c2', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}`, enabled: true },
    ] as never);
    expect(Object.keys(populated).sort()).toEqual(['c1', 'c2']);
    await (await client.get('c2')).update({ enabled: false, listen: (await client.get('c2')).listen, upstream: `127.0.0.1:${echo.port}` } as never);
    await client.reset();
    expect((await client.get('c2')).enabled).toBe(true);
    await (await client.get('c1')).remove();
    await (await client.get('c2')).remove();
    expect(await client.getAll()).toEqual({});
  });

  it('Proxy and Toxic: addToxic, getToxic, update (POST), remove; PATCH as Toxiproxy accepts it', async () => {
    const client = new Toxiproxy(url);
    const p = await client.createProxy({ name: 'c3', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
    const s = await connect(portOf(p.listen));
    const t = await p.addToxic({ type: 'latency', attributes: { latency: 100, jitter: 0 } } as ICreateToxicBody<unknown>);
    expect(t.toJson()).toMatchObject({ name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    expect(t.getPath()).toBe(`${url}/proxies/c3/toxics/latency_downstream`);
    expect((await p.getToxic('latency_downstream')).attributes).toEqual({ latency: 100, jitter: 0 });
    // POST update (this client's verb).
    expect((await t.update({ attributes: { latency: 150 } } as never)).attributes).toEqual({ latency: 150, jitter: 0 });
    // PATCH update of the toxic (Toxiproxy's Go client): partial attributes, the rest kept.
    const patched = await json('PATCH', '/proxies/c3/toxics/latency_downstream', { attributes: { latency: 250 } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ name: 'latency_downstream', attributes: { latency: 250, jitter: 0 } });
    expect(await roundTrip(s)).toBeGreaterThanOrEqual(245); // every answer waits the patched 250 ms
    // PATCH update of the proxy: disable, then enable.
    const off = await json('PATCH', '/proxies/c3', { enabled: false });
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ name: 'c3', enabled: false });
    expect((await client.get('c3')).enabled).toBe(false);
    expect((await json('PATCH', '/proxies/c3', { enabled: true })).status).toBe(200);
    // A method Toxiproxy does not route is still refused.
    expect((await json('PUT', '/proxies/c3', { enabled: true })).status).toBe(405);
    await t.remove();
    const s2 = await connect(portOf(p.listen));
    expect(await roundTrip(s2)).toBeLessThan(100);
    s.destroy();
    s2.destroy();
    await p.remove();
  });

  it('toxics of every type, with Toxiproxy\'s attribute values', async () => {
    const client = new Toxiproxy(url);
    const p = await client.createProxy({ name: 'c4', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
    const all: [string, Record<string, number>][] = [
      ['latency', { latency: 1000, jitter: 100 }],
      ['bandwidth', { rate: 1000 }],
      ['slow_close', { delay: 1000 }],
      ['timeout', { timeout: 1000 }],
      // size_variation equal to average_size: accepted by Toxiproxy (it checks nothing) and used by this client's own test.
      ['slicer', { average_size: 64, size_variation: 64, delay: 10 }],
      ['limit_data', { bytes: 1000 }],
      ['reset_peer', { timeout: 1000 }],
    ];
    for (const [type, attributes] of all) {
      for (const stream of ['downstream', 'upstream'] as const) {
        const t = await p.addToxic({ type, stream, toxicity: 0.5, attributes } as ICreateToxicBody<unknown>);
        expect(t.toJson(), `${type} ${stream}`).toEqual({ name: `${type}_${stream}`, type, stream, toxicity: 0.5, attributes });
      }
    }
    const listed = async () => (await (await fetch(`${url}/proxies/c4/toxics`)).json()) as unknown[];
    expect(await listed()).toHaveLength(all.length * 2);
    await client.reset();
    expect(await listed()).toEqual([]);
    await p.remove();
  });

  it('timeout 0: data is dropped and the connection closed when the toxic is removed (Toxiproxy\'s Cleanup)', async () => {
    const client = new Toxiproxy(url);
    const p = await client.createProxy({ name: 'c5', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
    const t = await p.addToxic({ type: 'timeout', attributes: { timeout: 0 } } as ICreateToxicBody<unknown>);
    const s = await connect(portOf(p.listen));
    const out = collect(s);
    s.write(pattern(0, 10_000));
    await sleep(200);
    expect(s.destroyed).toBe(false);
    await t.remove();
    const r = await Promise.race([out, sleep(3000).then(() => undefined)]);
    expect(r, 'the connection was closed at the removal').toBeDefined();
    expect(r!.data.length).toBe(0);
    await p.remove();
  });

  it('the one documented difference: a non-loopback upstream is refused', async () => {
    const client = new Toxiproxy(url);
    const err = await client.createProxy({ name: 'far', listen: '127.0.0.1:0', upstream: 'db.example:5432' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const res = await json('POST', '/proxies', { name: 'far', listen: '127.0.0.1:0', upstream: 'db.example:5432' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/loopback/);
  });
});
