/**
 * What TCP and HTTP proxies share: listening (and stopping listening while
 * disabled or `down`), and the toxic list with Toxiproxy's add/update/remove rules.
 */
import type { Server } from 'node:net';
import type { z } from 'zod';
import { isLoopbackHost, parseHostPort } from '../config/units.ts';
import type { DependencyTraffic, ProxyHandle, StreamDirection, ToxicInfo, ToxicRequest } from './types.ts';

/** A toxic on a proxy: what the API shows, and the live implementation. */
export interface ToxicEntry<T> {
  readonly info: ToxicInfo;
  readonly impl: T;
  /** Times the toxic hit (its toxicity roll came up): connection directions for TCP toxics, requests for HTTP faults. */
  hits: number;
}

/** What a toxic may measure of its own effect, beside its hit count (body-patch: responses patched). */
export interface MeasuresEffect {
  effect?(): object;
}

/**
 * A scenario's fault of a toxic's kind: params in the user's units ("800ms",
 * "64KB"), turned into the toxic's attributes. The fault kind itself is derived
 * from the toxic (src/faults/kinds/proxy.ts), so a toxic stays one file.
 */
export interface ToxicFault {
  /** Kind-specific keys of the fault, strict, in faultline units. */
  params: z.ZodType<Record<string, unknown>>;
  /** Params to the toxic's attributes (Toxiproxy's units); default: the params without `stream`. */
  toAttributes?(params: Record<string, unknown>): Record<string, unknown>;
  /** One line for `--help` and the README. */
  describe: string;
}

/** A toxic (or HTTP fault) type as a proxy takes it. */
export interface ToxicFactory<T> {
  /** Toxiproxy's type name, and the name of the fault kind derived from it. */
  readonly name: string;
  attributes: z.ZodType<Record<string, unknown>>;
  create(attributes: Record<string, unknown>): T;
  /** How a scenario uses it as a fault kind (absent: through the proxy API only). */
  readonly fault?: ToxicFault;
}

interface Traffic {
  connections: number;
  requests: number;
  forwarded: number;
}

/** Resolution of per-window dependency traffic: a request is counted in the window its 10 ms bucket starts in. */
export const TRAFFIC_BUCKET_MS = 10;
/** 10 minutes of buckets when no run reads them. */
const MAX_BUCKETS = 60_000;

/** A proxy-level problem with an HTTP status for the API (400 bad input, 404 unknown, 409 conflict). */
export class ProxyError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ProxyError';
    this.status = status;
  }
}

/** Parses a loopback host:port or throws a ProxyError saying which field is wrong. */
export function loopbackAddress(field: string, v: string): { host: string; port: number } {
  const hp = parseHostPort(v);
  if (!hp) throw new ProxyError(400, `${field}: expected host:port like "127.0.0.1:4000", got ${JSON.stringify(v)}`);
  if (!isLoopbackHost(hp.host)) throw new ProxyError(400, `${field}: ${v} is not a loopback address (faultline proxies stay on 127.0.0.1, localhost or [::1])`);
  return hp;
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What every proxy is configured with. */
export interface ProxyOptions {
  name: string;
  listen: string;
  upstream: string;
  enabled?: boolean;
  /** Random source for toxicity / probability rolls (tests pass a seeded one). */
  random?: () => number;
}

export abstract class ProxyBase<T extends { readonly disablesProxy?: boolean } & MeasuresEffect> implements ProxyHandle {
  readonly name: string;
  abstract readonly mode: 'tcp' | 'http' | 'tls';
  protected readonly random: () => number;
  protected upstreamHost: string;
  protected upstreamPort: number;
  protected entries: ToxicEntry<T>[] = [];
  private listenHost: string;
  private listenPort: number;
  private userEnabled: boolean;
  private server: Server | undefined;
  private closed = false;
  private syncing: Promise<void> = Promise.resolve();
  /** What reached the upstream since the proxy started (see traffic()). */
  private totals: Traffic = { connections: 0, requests: 0, forwarded: 0 };
  /** The same, in TRAFFIC_BUCKET_MS buckets by absolute time, until a window reads them (trafficBetween). */
  private buckets = new Map<number, Traffic>();

  constructor(o: ProxyOptions) {
    this.name = o.name;
    const l = loopbackAddress('listen', o.listen);
    const u = loopbackAddress('upstream', o.upstream);
    this.listenHost = l.host;
    this.listenPort = l.port;
    this.upstreamHost = u.host;
    this.upstreamPort = u.port;
    this.userEnabled = o.enabled ?? true;
    this.random = o.random ?? Math.random;
  }

  get listen(): string {
    return formatHostPort(this.listenHost, this.listenPort);
  }

  get upstream(): string {
    return formatHostPort(this.upstreamHost, this.upstreamPort);
  }

  get enabled(): boolean {
    return this.userEnabled && !this.entries.some((e) => e.impl.disablesProxy);
  }

  /** Toxiproxy's `enabled` (what the API shows and sets), apart from a `down` toxic. */
  get userEnabledFlag(): boolean {
    return this.userEnabled;
  }

  /** The toxic types this proxy takes. */
  protected abstract types(): Record<string, ToxicFactory<T>>;
  /** A server that handles connections (a fresh one each time the proxy starts listening). */
  protected abstract createServer(): Server;
  /** Closes every open connection. */
  protected abstract dropConnections(): void;
  /** The toxic list changed (TCP proxies pass it to live connections). */
  protected abstract toxicsChanged(): void;

  /** Starts listening (unless disabled). Rejects with the listen error (err.code EADDRINUSE when taken). */
  start(): Promise<void> {
    return this.sync();
  }

  /** Updates Toxiproxy's fields: enabled, listen, upstream. */
  async update(u: { enabled?: boolean; listen?: string; upstream?: string }): Promise<void> {
    if (u.upstream !== undefined) {
      const a = loopbackAddress('upstream', u.upstream);
      this.upstreamHost = a.host;
      this.upstreamPort = a.port;
    }
    if (u.listen !== undefined && u.listen !== this.listen) {
      const a = loopbackAddress('listen', u.listen);
      await this.stopListening();
      this.listenHost = a.host;
      this.listenPort = a.port;
    }
    if (u.enabled !== undefined) this.userEnabled = u.enabled;
    await this.sync();
  }

  async addToxic(req: ToxicRequest): Promise<ToxicInfo> {
    const stream: StreamDirection = req.stream ?? 'downstream';
    if (stream !== 'upstream' && stream !== 'downstream') throw new ProxyError(400, `stream: expected "upstream" or "downstream", got ${JSON.stringify(stream)}`);
    const name = req.name || `${req.type}_${stream}`;
    if (this.entries.some((e) => e.info.name === name)) throw new ProxyError(409, `toxic already exists: ${name}`);
    const entry = this.makeEntry(name, req.type, stream, req.toxicity ?? 1, req.attributes ?? {});
    this.entries = [...this.entries, entry];
    this.toxicsChanged();
    await this.sync();
    return entry.info;
  }

  /** Toxiproxy's toxic update: attributes merged, toxicity replaced when given; applied as a new toxic in the same place. */
  async updateToxic(name: string, req: { toxicity?: number; attributes?: Record<string, unknown> }): Promise<ToxicInfo> {
    const i = this.entries.findIndex((e) => e.info.name === name);
    if (i < 0) throw new ProxyError(404, 'toxic not found');
    const old = this.entries[i].info;
    const entry = this.makeEntry(name, old.type, old.stream, req.toxicity ?? old.toxicity, { ...old.attributes, ...req.attributes });
    this.entries = this.entries.map((e, j) => (j === i ? entry : e));
    this.toxicsChanged();
    await this.sync();
    return entry.info;
  }

  async removeToxic(name: string): Promise<boolean> {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.info.name !== name);
    if (this.entries.length === before) return false;
    this.toxicsChanged();
    await this.sync();
    return true;
  }

  toxics(): ToxicInfo[] {
    return this.entries.map((e) => e.info);
  }

  toxicEffect(name: string): Record<string, number> | undefined {
    const e = this.entries.find((x) => x.info.name === name);
    if (!e) return undefined;
    return { hits: e.hits, ...(e.impl.effect?.() as Record<string, number> | undefined) };
  }

  /**
   * Counts traffic on its way to the dependency, in total and in its time bucket:
   * a connection the system opened through the proxy, a request it sent (HTTP), a
   * request forwarded to the real upstream (HTTP; those a fault answered are not).
   */
  protected countTraffic(what: keyof Traffic): void {
    this.totals[what]++;
    const key = Math.floor((performance.timeOrigin + performance.now()) / TRAFFIC_BUCKET_MS);
    let b = this.buckets.get(key);
    if (!b) {
      b = { connections: 0, requests: 0, forwarded: 0 };
      this.buckets.set(key, b);
      // Nobody reading (a standalone proxy): keep a bounded history, not a growing one.
      if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    }
    b[what]++;
  }

  trafficBetween(start: number, end: number): DependencyTraffic {
    const sum: Traffic = { connections: 0, requests: 0, forwarded: 0 };
    const from = Math.floor(start / TRAFFIC_BUCKET_MS);
    const to = Math.floor(end / TRAFFIC_BUCKET_MS);
    for (const [k, b] of this.buckets) {
      if (k >= from && k < to) {
        sum.connections += b.connections;
        sum.requests += b.requests;
        sum.forwarded += b.forwarded;
      }
      // Windows are read in time order: what lies before this one is never asked for again.
      if (k < to) this.buckets.delete(k);
    }
    return this.shape(sum);
  }

  traffic(): DependencyTraffic {
    return this.shape(this.totals);
  }

  /** TCP proxies see connections only. */
  private shape(t: Traffic): DependencyTraffic {
    return this.mode === 'http' ? { ...t } : { connections: t.connections };
  }

  /** Removes every toxic and enables the proxy (Toxiproxy's /reset). */
  async reset(): Promise<void> {
    this.entries = [];
    this.userEnabled = true;
    this.toxicsChanged();
    await this.sync();
  }

  /** Stops listening and closes every connection, for good. */
  async close(): Promise<void> {
    this.closed = true;
    await this.sync();
  }

  private makeEntry(name: string, type: string, stream: StreamDirection, toxicity: number, attributes: Record<string, unknown>): ToxicEntry<T> {
    const factory = Object.hasOwn(this.types(), type) ? this.types()[type] : undefined;
    if (!factory) {
      const known = Object.keys(this.types()).join(', ');
      throw new ProxyError(400, `unknown toxic type for a ${this.mode} proxy: ${JSON.stringify(type)} (known: ${known})`);
    }
    if (typeof toxicity !== 'number' || !(toxicity >= 0 && toxicity <= 1)) throw new ProxyError(400, `toxicity: expected a number 0..1, got ${JSON.stringify(toxicity)}`);
    const parsed = factory.attributes.safeParse(attributes);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${['attributes', ...i.path].join('.')}: ${i.message}`).join('; ');
      throw new ProxyError(400, `${type}: ${why}`);
    }
    let impl: T;
    try {
      impl = factory.create(parsed.data);
    } catch (e) {
      throw new ProxyError(400, `${type}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return { info: { name, type, stream, toxicity, attributes: parsed.data }, impl, hits: 0 };
  }

  /** Serialised so concurrent changes never race on the listener. */
  private sync(): Promise<void> {
    const run = this.syncing.then(() => this.syncNow());
    this.syncing = run.catch(() => {});
    return run;
  }

  private async syncNow(): Promise<void> {
    const want = !this.closed && this.enabled;
    if (want && !this.server) await this.startListening();
    else if (!want && this.server) await this.stopListening();
  }

  private startListening(): Promise<void> {
    const server = this.createServer();
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen({ host: this.listenHost, port: this.listenPort, exclusive: true }, () => {
        server.off('error', onError);
        const addr = server.address();
        // Port 0 becomes the real port, so re-enabling listens on the same one.
        if (addr && typeof addr === 'object') this.listenPort = addr.port;
        this.server = server;
        resolve();
      });
    });
  }

  private async stopListening(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.dropConnections();
    await closed;
  }
}
