import type { FaultKind } from './types.ts';
/** Proxy-backed fault kinds (latency, bandwidth, reset_peer, http-error, toxiproxy, ...). */
export const proxyFaultKinds: Record<string, FaultKind> = {};
