/**
 * The "send" job: a Transport puts requests on connections and reports each
 * outcome to the request's own callbacks (undici's handler shape). One module
 * per transport, one table (transports/index.ts): faultline's own HTTP/1.1
 * client for plain http (the fast path), undici for https or when asked
 * (FAULTLINE_HTTP_CLIENT=undici).
 */
import type { H1Handler } from './http1.ts';

/** One request as a transport sees it. */
export interface Exchange extends H1Handler {
  /** The transport's handle to cancel it (set when it is handed over). */
  handle: unknown;
  head: boolean;
}

/** A request in the form a transport sends, made once per static request. */
export interface RequestSpec {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
}

export interface TransportOptions {
  target: URL;
  connections: number;
  pipelining: number;
  connectTimeoutMs: number;
  /** https trust (`--ca`, `--insecure`). */
  tls?: { ca?: string; insecure?: boolean };
}

export interface Transport {
  /** The transport's own form of a request (bytes, dispatch options), made once for static requests. */
  prepare(r: RequestSpec): unknown;
  /** Sends `x` on connection `conn` (opened on first use). Never sends it again, whatever happens. */
  send(conn: number, x: Exchange, prepared: unknown): void;
  /** Whether a timeout may cancel `x` now (undici requests still connecting are left to its connect timeout). */
  cancellable(x: Exchange): boolean;
  /** Cancels `x` (its timeout): it fails with `err` through its callbacks. */
  cancel(x: Exchange, err: Error): void;
  destroy(): void;
}
