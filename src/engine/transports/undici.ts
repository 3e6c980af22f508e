/**
 * undici as a Transport: one Client per connection (requests go straight to it,
 * where a Pool would scan its clients), pipelining really on (undici's default
 * `blocking` holds each request until the previous response's headers), and the
 * requests a connection gets in one turn of the event loop leaving in one write.
 */
import { Client, buildConnector } from 'undici';
import type { Socket } from 'node:net';
import type { Exchange, RequestSpec, Transport, TransportOptions } from '../transport.ts';
import { markHandshakeErrors, tlsTrustOptions } from '../tlsErrors.ts';

type DispatchOpts = RequestSpec & { headersTimeout: number; bodyTimeout: number; blocking: boolean };

export class UndiciTransport implements Transport {
  private readonly o: TransportOptions;
  private readonly clients: Client[] = [];
  /** Each client's current socket (from our connector), to batch pipelined writes. */
  private readonly sockets: (Socket | undefined)[] = [];
  /** The request that made each client connect: its connect time is recorded under its name. */
  private readonly opener: (Exchange | undefined)[] = [];
  /** Sockets corked during this turn of the event loop; uncorked together on the next tick. */
  private readonly corked: Socket[] = [];
  private readonly connector: ReturnType<typeof buildConnector>;

  constructor(o: TransportOptions) {
    this.o = o;
    this.connector = markHandshakeErrors(buildConnector({ timeout: o.connectTimeoutMs, ...tlsTrustOptions(o.tls) }));
  }

  prepare(r: RequestSpec): DispatchOpts {
    return {
      ...r,
      headersTimeout: 0,
      bodyTimeout: 0,
      blocking: this.o.pipelining > 1 ? false : r.method !== 'HEAD',
    };
  }

  private client(index: number): Client {
    const base = this.connector;
    const connect: typeof base = (opts, cb) => {
      const t0 = performance.now();
      base(opts, (...args) => {
        this.sockets[index] = (args[1] as Socket | null) ?? undefined;
        const x = this.opener[index];
        this.opener[index] = undefined;
        if (args[0] === null && x !== undefined) x.onConnected(performance.now() - t0);
        cb(...args);
      });
    };
    return new Client(this.o.target.origin, {
      pipelining: this.o.pipelining,
      // No undici timers: the worker's sweep enforces the request timeout.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect,
      keepAliveTimeout: 60_000,
      // The same head limit as our own parser (parse.ts), so both transports refuse the same responses.
      maxHeaderSize: 64 * 1024,
    });
  }

  private uncorkAll = (): void => {
    const list = this.corked;
    for (let i = 0; i < list.length; i++) list[i].uncork();
    list.length = 0;
  };

  send(conn: number, x: Exchange, prepared: unknown): void {
    const c = (this.clients[conn] ??= this.client(conn));
    const sock = this.sockets[conn];
    if (sock === undefined || sock.destroyed) this.opener[conn] ??= x;
    else if (this.o.pipelining > 1 && sock.writableCorked === 0) {
      // Hold this connection's writes until the next tick: every request it gets meanwhile leaves in one writev.
      sock.cork();
      if (this.corked.push(sock) === 1) process.nextTick(this.uncorkAll);
    }
    c.dispatch(prepared as DispatchOpts, x as unknown as Parameters<Client['dispatch']>[1]);
  }

  cancellable(x: Exchange): boolean {
    return x.handle !== undefined;
  }

  cancel(x: Exchange, err: Error): void {
    (x.handle as { abort(reason: Error): void } | undefined)?.abort(err);
  }

  destroy(): void {
    for (const c of this.clients) c?.destroy().catch(() => {});
  }
}
