/** Hosts as the services and fault kinds see them (a leaf: types only). */
import type { DnsResponder } from './dns.ts';

/** The `host` key of a service, normalised. */
export interface HostSpec {
  /** Names the host's resolver answers (name → address); others are NXDOMAIN. */
  names: Record<string, string>;
}

/** One host: a replica's namespace and its link. */
export interface Host {
  readonly service: string;
  readonly replica: number;
  /** Network namespace name (`ip netns`), also /etc/netns/<ns>. */
  readonly ns: string;
  /** Root side of the veth pair, and its address. */
  readonly rootIf: string;
  readonly rootAddress: string;
  /** Host side of the veth pair, and the host's address. */
  readonly nsIf: string;
  readonly address: string;
  /** Ports the service listens on (127.0.0.1 inside, 127.0.0.1 in the root namespace too). */
  readonly ports: number[];
  readonly dns: DnsResponder;
}

/** What fault kinds see: the hosts of a service (one per replica). */
export interface HostRegistry {
  of(service: string): Host[];
  all(): Host[];
}
