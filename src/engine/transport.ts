/**
 * The "send" job: a Transport puts requests on connections and reports each
 * outcome to the request's own callbacks (undici's handler shape). One module
 * per transport, one table: faultline's own HTTP/1.1 client for plain http
 * (the fast path), undici for https or when asked (FAULTLINE_HTTP_CLIENT=undici).
 */
import type { H1Handler } from './http1.ts';
import { Http1Transport } from './transports/http1.ts';
import { UndiciTransport } from './transports/undici.ts';

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

export const TRANSPORTS = {
  http1: (o: TransportOptions): Transport => new Http1Transport(o),
  undici: (o: TransportOptions): Transport => new UndiciTransport(o),
} as const;

export type TransportName = keyof typeof TRANSPORTS;

/** The transport for a target: our own client for plain http, undici for https (or when the environment asks). */
export function transportFor(target: URL, env: string | undefined = process.env.FAULTLINE_HTTP_CLIENT): TransportName {
  return target.protocol === 'http:' && env !== 'undici' ? 'http1' : 'undici';
}
