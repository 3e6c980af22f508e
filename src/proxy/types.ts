/**
 * Built-in fault proxies, as the coordinator and fault kinds see them.
 * (Owned by src/proxy/; extend freely, keep these names.)
 */
export interface ProxyHandle {
  readonly name: string;
  /** host:port the proxy listens on. */
  readonly listen: string;
  /** host:port it forwards to. */
  readonly upstream: string;
}

export interface ProxyRegistry {
  get(name: string): ProxyHandle | undefined;
  names(): string[];
  /** Stops every proxy; in-flight connections are closed. */
  closeAll(): Promise<void>;
}
