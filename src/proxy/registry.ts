/** Named proxies in one process: what a scenario's `proxies` and the Toxiproxy API both manage. */
import { TcpProxy } from './tcp.ts';
import { HttpProxy } from './http.ts';
import { TlsProxy } from './tls.ts';
import { ThrowawayCa } from './tls/ca.ts';
import { ProxyError } from './base.ts';
import type { ProxyOptions } from './base.ts';
import type { ProxyRegistry } from './types.ts';

/** A running proxy of either mode. */
export type Proxy = TcpProxy | HttpProxy | TlsProxy;

/** What creating a proxy takes (Toxiproxy's proxy fields, plus faultline's `mode`). */
export interface ProxyCreate extends ProxyOptions {
  mode?: 'tcp' | 'http' | 'tls';
}

export class Proxies implements ProxyRegistry {
  private readonly byName = new Map<string, Proxy>();
  private tlsCa: ThrowawayCa | undefined;

  /** `ca`: the CA that signs what TLS proxies serve (the run's); made on first use when not given. */
  constructor(o: { ca?: ThrowawayCa } = {}) {
    this.tlsCa = o.ca;
  }

  /** The CA of this registry's TLS proxies. */
  get ca(): ThrowawayCa {
    return (this.tlsCa ??= new ThrowawayCa());
  }

  get(name: string): Proxy | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): Proxy[] {
    return [...this.byName.values()];
  }

  /** Creates and starts a proxy; a listen error (EADDRINUSE...) rejects and leaves nothing behind. */
  async create(o: ProxyCreate): Promise<Proxy> {
    if (this.byName.has(o.name)) throw new ProxyError(409, `proxy already exists: ${o.name}`);
    const p = o.mode === 'http' ? new HttpProxy(o) : o.mode === 'tls' ? new TlsProxy({ ...o, ca: this.ca }) : new TcpProxy(o);
    this.byName.set(o.name, p);
    try {
      await p.start();
    } catch (err) {
      this.byName.delete(o.name);
      await p.close().catch(() => {});
      throw err;
    }
    return p;
  }

  async remove(name: string): Promise<boolean> {
    const p = this.byName.get(name);
    if (!p) return false;
    this.byName.delete(name);
    await p.close();
    return true;
  }

  /** Toxiproxy's /reset: every proxy enabled, every toxic removed. */
  async reset(): Promise<void> {
    await Promise.all(this.all().map((p) => p.reset()));
  }

  async closeAll(): Promise<void> {
    const all = this.all();
    this.byName.clear();
    await Promise.all(all.map((p) => p.close()));
  }
}
