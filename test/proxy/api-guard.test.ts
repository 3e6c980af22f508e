/**
 * The Toxiproxy-compatible API refuses what a web page in the user's browser
 * could send it (a text/plain POST with an Origin, a DNS-rebound Host), and
 * stays open to local programs: toxiproxy-node-client keeps working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startProxyApi, type ProxyApi } from '../../src/proxy/api.ts';
import { echoServer, type Closable } from './helpers.ts';

function raw(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, setHost: headers.host === undefined }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('API hardening', () => {
  let api: ProxyApi;
  let echo: Closable;
  afterEach(async () => {
    await api?.close();
    await echo?.close();
  });

  it('a browser-like request (text/plain POST with an Origin) adds no toxic', async () => {
    echo = await echoServer();
    api = await startProxyApi({ host: '127.0.0.1', port: 0 });
    await new Toxiproxy(api.url).createProxy({ name: 'db', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
    const toxic = JSON.stringify({ type: 'latency', attributes: { latency: 1000 } });
    const page = await raw(`${api.url}/proxies/db/toxics`, 'POST', {
      origin: 'http://evil.example',
      'content-type': 'text/plain;charset=UTF-8',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0',
    }, toxic);
    expect(page.status).toBe(403);
    expect(JSON.parse(page.body).error).toMatch(/Origin: http:\/\/evil\.example.*refused/);
    // Each check on its own: an Origin alone, text/plain alone, a rebound Host, a browser agent.
    expect((await raw(`${api.url}/proxies/db/toxics`, 'POST', { origin: 'null', 'content-type': 'application/json' }, toxic)).status).toBe(403);
    const plain = await raw(`${api.url}/proxies/db/toxics`, 'POST', { 'content-type': 'text/plain' }, toxic);
    expect(plain.status).toBe(415);
    expect(JSON.parse(plain.body).error).toBe('a POST with a body needs Content-Type: application/json (got "text/plain"; with curl: -H \'Content-Type: application/json\')');
    expect((await raw(`${api.url}/proxies/db/toxics`, 'POST', {}, toxic)).status).toBe(415);
    const rebound = await raw(`${api.url}/proxies/db/toxics`, 'POST', { host: 'attacker.example:8474', 'content-type': 'application/json' }, toxic);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error).toMatch(/not a loopback address/);
    expect((await raw(`${api.url}/proxies`, 'GET', { host: 'attacker.example' })).status).toBe(403); // reads too: proxies' addresses are the user's
    expect((await raw(`${api.url}/reset`, 'POST', { 'user-agent': 'Mozilla/5.0' })).status).toBe(403);
    const list = await raw(`${api.url}/proxies/db/toxics`, 'GET', {});
    expect(JSON.parse(list.body)).toEqual([]);
  });

  it('local programs keep working: loopback Host forms, JSON writes, body-less POST and DELETE', async () => {
    echo = await echoServer();
    api = await startProxyApi({ host: '127.0.0.1', port: 0 });
    const port = new URL(api.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
      expect((await raw(`${api.url}/version`, 'GET', { host })).status, host).toBe(200);
    }
    const created = await raw(`${api.url}/proxies`, 'POST', { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ name: 'db', upstream: `127.0.0.1:${echo.port}` }));
    expect(created.status).toBe(201);
    const client = new Toxiproxy(api.url);
    const proxy = await client.get('db');
    await proxy.addToxic({ type: 'latency', attributes: { latency: 10 } } as never);
    expect(JSON.parse((await raw(`${api.url}/proxies/db/toxics`, 'GET', {})).body)).toHaveLength(1);
    await client.reset(); // a POST without a body and without a Content-Type
    expect((await raw(`${api.url}/proxies/db`, 'DELETE', {})).status).toBe(204);
  });
});
