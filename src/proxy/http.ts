/**
 * The HTTP-aware proxy (`mode: http`): parses requests with node:http, applies
 * HTTP faults per request, forwards the rest over a keep-alive agent.
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import { ProxyBase } from './base.ts';
import type { ProxyOptions, ToxicFactory } from './base.ts';
import type { HttpFault } from './http/types.ts';
import { httpFaultTypes } from './http/index.ts';

// Hop-by-hop headers are about one connection, never forwarded (RFC 9110 §7.6.1).
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function forwardHeaders(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const k in h) if (!HOP.has(k)) out[k] = h[k];
  return out;
}

export class HttpProxy extends ProxyBase<HttpFault> {
  readonly mode = 'http' as const;
  private readonly agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  private httpServer: http.Server | undefined;

  constructor(o: ProxyOptions) {
    super(o);
  }

  protected types(): Record<string, ToxicFactory<HttpFault>> {
    return httpFaultTypes;
  }

  protected createServer(): Server {
    const server = http.createServer({ keepAlive: true }, (req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    server.on('connection', () => this.countTraffic('connections'));
    this.httpServer = server;
    return server;
  }

  protected dropConnections(): void {
    this.httpServer?.closeAllConnections();
    this.agent.destroy();
  }

  protected toxicsChanged(): void {
    // Faults are looked up per request; nothing live to update.
  }

  override async close(): Promise<void> {
    await super.close();
    this.agent.destroy();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.countTraffic('requests');
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    let rewrite: HttpFault[] | undefined;
    for (const e of this.entries) {
      const f = e.impl;
      // Match and probability, the one place: each fault rolls once per matching request.
      if (!f.matches(method, pathname)) continue;
      if (e.info.toxicity < 1 && !(this.random() < e.info.toxicity)) continue;
      e.hits++;
      if (f.onRequest && (await f.onRequest(req, res)) === 'done') return;
      if (f.rewriteBody) (rewrite ??= []).push(f);
    }
    if (req.destroyed) return;
    this.forward(req, res, method, url, rewrite);
  }

  private forward(req: IncomingMessage, res: ServerResponse, method: string, url: string, rewrite: HttpFault[] | undefined): void {
    this.countTraffic('forwarded');
    const up = http.request(
      { host: this.upstreamHost, port: this.upstreamPort, method, path: url, headers: forwardHeaders(req.headers), agent: this.agent },
      (upRes) => {
        const status = upRes.statusCode ?? 502;
        const headers = forwardHeaders(upRes.headers);
        if (!rewrite) {
          res.writeHead(status, headers);
          upRes.pipe(res);
          return;
        }
        const parts: Buffer[] = [];
        upRes.on('data', (d: Buffer) => parts.push(d));
        upRes.on('end', () => {
          let body: Buffer = Buffer.concat(parts);
          for (const f of rewrite) body = f.rewriteBody!(body, upRes.headers);
          headers['content-length'] = body.length;
          res.writeHead(status, headers);
          res.end(body);
        });
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'x-faultline-proxy': this.name });
        res.end(`faultline proxy ${this.name}: upstream ${this.upstream} unreachable\n`);
      } else res.destroy();
    });
    // A client that goes away mid-request must not leave the upstream request hanging.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }
}
