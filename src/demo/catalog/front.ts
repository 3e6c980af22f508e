/**
 * A small HTTP front for the catalog's replicas (what nginx or a Service does):
 * requests go round-robin over UPSTREAMS; a refused connection (a replica that
 * is down) is retried once on each other replica — it never reached the dead
 * one, so nothing is done twice. Anything else is passed through as it came.
 *
 *   PORT=8080 UPSTREAMS=http://127.0.0.1:8081,http://127.0.0.1:8082 node src/demo/catalog/front.ts
 */
import http from 'node:http';
import { fail, serve } from '../serve.ts';

const upstreams = (process.env.UPSTREAMS ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((u) => new URL(u));
if (!upstreams.length) fail('UPSTREAMS: expected the replicas\' URLs, comma-separated');
for (const u of upstreams) if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) fail(`UPSTREAMS: expected loopback URLs, got ${u.href}`);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let next = 0;

function forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, tries: number, at: number): void {
  const u = upstreams[at % upstreams.length];
  const up = http.request({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'ECONNREFUSED' && tries + 1 < upstreams.length) return forward(req, body, res, tries + 1, at + 1);
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `upstream ${u.host}: ${e.code ?? e.message}` }));
  });
  up.end(body);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => forward(req, Buffer.concat(chunks), res, 0, next++));
});
serve(server, 'catalog front');
