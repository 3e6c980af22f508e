/**
 * Built-in fault proxies, as the coordinator and fault kinds see them.
 * (Owned by src/proxy/; extend freely, keep these names.)
 */

/** Toxiproxy's direction names: `upstream` is client → server, `downstream` is server → client. */
export type StreamDirection = 'upstream' | 'downstream';

/** A toxic as Toxiproxy's API shows it (attributes in Toxiproxy's units: ms, KB/s, µs, bytes). */
export interface ToxicInfo {
  name: string;
  type: string;
  stream: StreamDirection;
  /** Probability 0..1: per connection for TCP toxics, per request for HTTP faults. */
  toxicity: number;
  attributes: Record<string, unknown>;
}

/** What adding a toxic takes; name defaults to `<type>_<stream>`, stream to downstream, toxicity to 1. */
export interface ToxicRequest {
  name?: string;
  type: string;
  stream?: StreamDirection;
  toxicity?: number;
  attributes?: Record<string, unknown>;
}

export interface ProxyHandle {
  readonly name: string;
  /** host:port the proxy listens on. */
  readonly listen: string;
  /** host:port it forwards to. */
  readonly upstream: string;
  /** `tcp` forwards bytes; `http` parses requests and takes HTTP faults; `tls` terminates TLS with the run's CA, then forwards bytes as `tcp` does. */
  readonly mode: 'tcp' | 'http' | 'tls';
  /** False while disabled (Toxiproxy's `enabled`) or while a `down` toxic is active. */
  readonly enabled: boolean;
  /** Adds a toxic; rejects with ToxicError on an unknown type, bad attributes or a duplicate name. */
  addToxic(req: ToxicRequest): Promise<ToxicInfo>;
  /** Removes a toxic by name; false when there was none (removal is idempotent). */
  removeToxic(name: string): Promise<boolean>;
  toxics(): ToxicInfo[];
  /**
   * What a toxic measured of its own effect while present: `hits` (times its
   * toxicity roll came up: connection directions for TCP toxics, requests for
   * HTTP faults) and whatever the toxic counts itself. Undefined when no such toxic.
   */
  toxicEffect(name: string): Record<string, number> | undefined;
  /** What the system sent towards the dependency since the proxy started, cumulative. */
  traffic(): DependencyTraffic;
  /**
   * The same in [start, end) (absolute ms, to 10 ms buckets), for one window: the
   * run reads it per window to show amplification. Windows are read in time
   * order; earlier buckets are dropped.
   */
  trafficBetween(start: number, end: number): DependencyTraffic;
}

/**
 * Traffic on its way to a dependency: connections the system opened through the
 * proxy; for HTTP proxies also the requests it sent (what a retry storm
 * multiplies) and those forwarded to the real upstream (the rest a fault answered).
 */
export interface DependencyTraffic {
  connections: number;
  requests?: number;
  forwarded?: number;
}

export interface ProxyRegistry {
  get(name: string): ProxyHandle | undefined;
  names(): string[];
  /** Stops every proxy; in-flight connections are closed. */
  closeAll(): Promise<void>;
}
