/** Every transport, by name: a transport is a file and a line. */
import type { Transport, TransportOptions } from '../transport.ts';
import { Http1Transport } from './http1.ts';
import { UndiciTransport } from './undici.ts';

export const TRANSPORTS = {
  http1: (o: TransportOptions): Transport => new Http1Transport(o),
  undici: (o: TransportOptions): Transport => new UndiciTransport(o),
} as const;

export type TransportName = keyof typeof TRANSPORTS;

/** The transport for a target: our own client for plain http, undici for https (or when the environment asks). */
export function transportFor(target: URL, env: string | undefined = process.env.FAULTLINE_HTTP_CLIENT): TransportName {
  return target.protocol === 'http:' && env !== 'undici' ? 'http1' : 'undici';
}
