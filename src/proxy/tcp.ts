/** The TCP proxy: accepts on `listen`, connects each client to `upstream`, and runs toxics on both directions. */
import net from 'node:net';
import type { Server, Socket } from 'node:net';
import { Link } from './link.ts';
import type { LinkOwner } from './link.ts';
import { ProxyBase } from './base.ts';
import type { ProxyOptions, ToxicEntry, ToxicFactory } from './base.ts';
import type { Toxic } from './toxics/types.ts';
import { toxicTypes } from './toxics/index.ts';

/** One proxied connection: two sockets, two links. */
class Connection implements LinkOwner {
  private readonly client: Socket;
  private readonly upstream: Socket;
  private readonly up: Link;
  private readonly down: Link;
  private readonly onGone: (c: Connection) => void;
  readonly random: () => number;
  private done = false;
  private closes = 0;

  constructor(client: Socket, host: string, port: number, toxics: ToxicEntry<Toxic>[], random: () => number, onGone: (c: Connection) => void) {
    this.client = client;
    this.random = random;
    this.onGone = onGone;
    client.setNoDelay(true);
    this.upstream = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    this.up = new Link('upstream', client, this.upstream, this, toxics);
    this.down = new Link('downstream', this.upstream, client, this, toxics);
    // A reset on one side is passed on as a reset (the client sees ECONNRESET, as it would without the proxy).
    client.on('error', () => this.reset());
    this.upstream.on('error', () => this.reset());
    client.on('close', () => this.sideClosed(this.up));
    this.upstream.on('close', () => this.sideClosed(this.down));
  }

  setToxics(toxics: ToxicEntry<Toxic>[]): void {
    this.up.setToxics(toxics);
    this.down.setToxics(toxics);
  }

  /** Closes both sides (FIN after what was already written). */
  close(): void {
    if (this.done) return;
    this.finish();
    for (const s of [this.client, this.upstream]) {
      if (s.destroyed) continue;
      s.end(() => s.destroy());
      // A peer that never reads must not keep the socket forever.
      setTimeout(() => s.destroy(), 1000).unref();
    }
  }

  /** Resets both sides (RST). */
  reset(): void {
    if (this.done) return;
    this.finish();
    for (const s of [this.client, this.upstream]) {
      try {
        if (!s.destroyed) s.resetAndDestroy();
      } catch {
        s.destroy();
      }
    }
  }

  private finish(): void {
    this.done = true;
    this.up.kill();
    this.down.kill();
    this.onGone(this);
  }

  private sideClosed(from: Link): void {
    from.sourceGone();
    if (++this.closes === 2 && !this.done) {
      this.done = true;
      this.onGone(this);
    }
  }
}

/** A TCP proxy with Toxiproxy's toxics. */
export class TcpProxy extends ProxyBase<Toxic> {
  readonly mode: 'tcp' | 'tls' = 'tcp';
  private readonly conns = new Set<Connection>();

  constructor(o: ProxyOptions) {
    super(o);
  }

  /** Open connections right now. */
  get connections(): number {
    return this.conns.size;
  }

  protected types(): Record<string, ToxicFactory<Toxic>> {
    return toxicTypes;
  }

  protected createServer(): Server {
    return net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.forward(client));
  }

  /** Proxies one client connection (a TLS proxy passes its decrypted socket) to the upstream, through the toxics. */
  protected forward(client: Socket): void {
    this.countTraffic('connections');
    const c = new Connection(client, this.upstreamHost, this.upstreamPort, this.entries, this.random, (gone) => this.conns.delete(gone));
    this.conns.add(c);
  }

  protected dropConnections(): void {
    for (const c of [...this.conns]) c.close();
  }

  protected toxicsChanged(): void {
    for (const c of this.conns) c.setToxics(this.entries);
  }
}
