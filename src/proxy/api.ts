/**
 * A Toxiproxy-compatible REST API over faultline's proxies: a flat route table
 * (as Toxiproxy's api.go), apart from the proxy runtime. Same paths, JSON
 * shapes, status codes and `{ error, status }` error bodies, so existing
 * Toxiproxy clients work as they are. Extensions: `mode: "http"` on a proxy,
 * the `down` toxic, and the HTTP fault types on HTTP-mode proxies.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Proxies } from './registry.ts';
import type { Proxy } from './registry.ts';
import { ProxyError, formatHostPort, loopbackAddress } from './base.ts';
import type { ToxicRequest } from './types.ts';

/** The Toxiproxy API version this server speaks, and faultline's build of it. */
export const API_VERSION = '2.12.0-faultline';

interface Reply {
  status: number;
  body?: unknown;
}

type Handler = (proxies: Proxies, params: string[], body: unknown) => Promise<Reply>;

/** A proxy as Toxiproxy returns it. */
export function proxyJson(p: Proxy) {
  return { name: p.name, listen: p.listen, upstream: p.upstream, enabled: p.userEnabledFlag, toxics: p.toxics(), mode: p.mode };
}

function need(proxies: Proxies, name: string): Proxy {
  const p = proxies.get(name);
  if (!p) throw new ProxyError(404, 'proxy not found');
  return p;
}

function obj(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ProxyError(400, 'bad request body: expected a JSON object');
  return body as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === '') {
    if (required) throw new ProxyError(400, `missing required field: ${key}`);
    return undefined;
  }
  if (typeof v !== 'string') throw new ProxyError(400, `${key}: expected a string`);
  return v;
}

function bool(o: Record<string, unknown>, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ProxyError(400, `${key}: expected true or false`);
  return v;
}

function modeOf(o: Record<string, unknown>): 'tcp' | 'http' | 'tls' | undefined {
  const m = o.mode;
  if (m === undefined || m === 'tcp' || m === 'http' || m === 'tls') return m;
  throw new ProxyError(400, 'mode: expected "tcp", "http" or "tls"');
}

async function createProxy(proxies: Proxies, body: unknown): Promise<Proxy> {
  const o = obj(body);
  const name = str(o, 'name', true)!;
  const listen = str(o, 'listen', false) ?? '127.0.0.1:0';
  const upstream = str(o, 'upstream', true)!;
  // Checked before anything listens, so a bad address is a 400, not a half-made proxy.
  loopbackAddress('listen', listen);
  loopbackAddress('upstream', upstream);
  try {
    return await proxies.create({ name, listen, upstream, enabled: bool(o, 'enabled'), mode: modeOf(o) });
  } catch (err) {
    if (err instanceof ProxyError) throw err;
    throw new ProxyError(500, `proxy ${name}: cannot listen on ${listen}: ${(err as Error).message}`);
  }
}

function toxicRequest(body: unknown): ToxicRequest {
  const o = obj(body);
  const type = str(o, 'type', true)!;
  const stream = str(o, 'stream', false);
  if (stream !== undefined && stream !== 'upstream' && stream !== 'downstream') throw new ProxyError(400, 'stream: expected "upstream" or "downstream"');
  const toxicity = o.toxicity;
  if (toxicity !== undefined && typeof toxicity !== 'number') throw new ProxyError(400, 'toxicity: expected a number 0..1');
  return { name: str(o, 'name', false), type, stream, toxicity, attributes: o.attributes === undefined ? undefined : obj(o.attributes) };
}

/** Method (or methods, "POST|PATCH"), path, handler: Toxiproxy's route table (api.go). */
const routes: [method: string, path: RegExp, handler: Handler][] = [
  [
    'GET',
    /^\/proxies$/,
    async (proxies) => ({ status: 200, body: Object.fromEntries(proxies.all().map((p) => [p.name, proxyJson(p)])) }),
  ],
  ['POST', /^\/proxies$/, async (proxies, _, body) => ({ status: 201, body: proxyJson(await createProxy(proxies, body)) })],
  [
    'POST',
    /^\/populate$/,
    async (proxies, _, body) => {
      // Toxiproxy: an array (or {proxies: [...]}) of proxies; an existing one with other addresses is replaced.
      const list = Array.isArray(body) ? body : (obj(body).proxies as unknown);
      if (!Array.isArray(list)) throw new ProxyError(400, 'bad request body: expected an array of proxies');
      const out: Proxy[] = [];
      for (const raw of list) {
        const o = obj(raw);
        const name = str(o, 'name', true)!;
        const existing = proxies.get(name);
        if (existing) {
          const listen = str(o, 'listen', false);
          const upstream = str(o, 'upstream', true)!;
          const same = (listen === undefined || listen === existing.listen) && upstream === existing.upstream && (modeOf(o) ?? 'tcp') === existing.mode;
          if (same) {
            await existing.update({ enabled: bool(o, 'enabled') ?? true });
            out.push(existing);
            continue;
          }
          await proxies.remove(name);
        }
        out.push(await createProxy(proxies, o));
      }
      return { status: 201, body: { proxies: out.map(proxyJson) } };
    },
  ],
  ['GET', /^\/proxies\/([^/]+)$/, async (proxies, [name]) => ({ status: 200, body: proxyJson(need(proxies, name)) })],
  [
    // Toxiproxy routes POST and PATCH (its Go client's verb) to the same update.
    'POST|PATCH',
    /^\/proxies\/([^/]+)$/,
    async (proxies, [name], body) => {
      const p = need(proxies, name);
      const o = obj(body);
      await p.update({ enabled: bool(o, 'enabled'), listen: str(o, 'listen', false), upstream: str(o, 'upstream', false) });
      return { status: 200, body: proxyJson(p) };
    },
  ],
  [
    'DELETE',
    /^\/proxies\/([^/]+)$/,
    async (proxies, [name]) => {
      if (!(await proxies.remove(name))) throw new ProxyError(404, 'proxy not found');
      return { status: 204 };
    },
  ],
  ['GET', /^\/proxies\/([^/]+)\/toxics$/, async (proxies, [name]) => ({ status: 200, body: need(proxies, name).toxics() })],
  [
    'POST',
    /^\/proxies\/([^/]+)\/toxics$/,
    async (proxies, [name], body) => ({ status: 200, body: await need(proxies, name).addToxic(toxicRequest(body)) }),
  ],
  [
    'GET',
    /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
    async (proxies, [name, toxic]) => {
      const t = need(proxies, name).toxics().find((x) => x.name === toxic);
      if (!t) throw new ProxyError(404, 'toxic not found');
      return { status: 200, body: t };
    },
  ],
  [
    'POST|PATCH',
    /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
    async (proxies, [name, toxic], body) => {
      const o = obj(body);
      const toxicity = o.toxicity;
      if (toxicity !== undefined && typeof toxicity !== 'number') throw new ProxyError(400, 'toxicity: expected a number 0..1');
      const attributes = o.attributes === undefined ? undefined : obj(o.attributes);
      return { status: 200, body: await need(proxies, name).updateToxic(toxic, { toxicity, attributes }) };
    },
  ],
  [
    'DELETE',
    /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
    async (proxies, [name, toxic]) => {
      if (!(await need(proxies, name).removeToxic(toxic))) throw new ProxyError(404, 'toxic not found');
      return { status: 204 };
    },
  ],
  [
    'POST',
    /^\/reset$/,
    async (proxies) => {
      await proxies.reset();
      return { status: 204 };
    },
  ],
  ['GET', /^\/version$/, async () => ({ status: 200, body: { version: API_VERSION } })],
];

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) reject(new ProxyError(413, 'request body too large'));
      else parts.push(d);
    });
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8').trim();
      if (text === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ProxyError(400, 'bad request body: not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: Reply): void {
  if (r.body === undefined) {
    res.writeHead(r.status).end();
    return;
  }
  const data = JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/**
 * The API changes what the machine's proxies do, so only local programs may call it, never a
 * web page the user has open: a browser adds `Origin` to cross-origin and every POST request
 * (and a page can send a `text/plain` POST without a preflight), and a DNS-rebound name arrives
 * as a non-loopback `Host`. Toxiproxy refuses browser user agents the same way (403).
 * Throws the ProxyError to answer with; returns for a request that may proceed.
 */
export function guardApiRequest(req: IncomingMessage): void {
  if (req.headers.origin !== undefined) throw new ProxyError(403, `requests from a web page (Origin: ${req.headers.origin.slice(0, 100)}) are refused: the API is for local programs`);
  const host = req.headers.host;
  if (host === undefined || !LOOPBACK_HOST.test(host)) throw new ProxyError(403, `Host ${JSON.stringify((host ?? '').slice(0, 100))} is not a loopback address: the API answers only 127.0.0.1, localhost or [::1]`);
  if (/^Mozilla\//.test(req.headers['user-agent'] ?? '')) throw new ProxyError(403, 'browser user agents are refused: the API is for local programs');
  const write = req.method !== 'GET' && req.method !== 'HEAD';
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (write && hasBody && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    throw new ProxyError(415, `a ${req.method} with a body needs Content-Type: application/json (got ${JSON.stringify(req.headers['content-type'] ?? 'none')}; with curl: -H 'Content-Type: application/json')`);
  }
}

/** Handles one API request against `proxies` (usable inside another server too). */
export async function handleApiRequest(proxies: Proxies, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    guardApiRequest(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    let allowed = false;
    for (const [method, re, handler] of routes) {
      const m = re.exec(path);
      if (!m) continue;
      allowed = true;
      if (!method.split('|').includes(req.method ?? '')) continue;
      const body = await readBody(req);
      return send(res, await handler(proxies, m.slice(1).map(decodeURIComponent), body));
    }
    req.resume();
    throw new ProxyError(allowed ? 405 : 404, allowed ? 'method not allowed' : 'not found');
  } catch (err) {
    req.resume(); // an unread body (a refused request) must not stall the connection
    const status = err instanceof ProxyError ? err.status : 500;
    send(res, { status, body: { error: (err as Error).message, status } });
  }
}

/** A running API server. */
export interface ProxyApi {
  /** Base URL, e.g. http://127.0.0.1:8474 */
  url: string;
  proxies: Proxies;
  /** Stops the API and every proxy it made. */
  close(): Promise<void>;
}

/** Serves Toxiproxy's REST API on a loopback host:port (port 0: any free port). */
export async function startProxyApi(opts: { host: string; port: number; proxies?: Proxies }): Promise<ProxyApi> {
  loopbackAddress('api', formatHostPort(opts.host, opts.port));
  const proxies = opts.proxies ?? new Proxies();
  const server = http.createServer((req, res) => void handleApiRequest(proxies, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${formatHostPort(opts.host, port)}`,
    proxies,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await proxies.closeAll();
    },
  };
}
