/** The built-in fault proxy, as the coordinator, the CLI and library users take it. */
export { startProxies, proxySpecSchema, proxiesSchema } from './schema.ts';
export type { ProxySpec } from './schema.ts';
export { Proxies } from './registry.ts';
export type { Proxy, ProxyCreate } from './registry.ts';
export { TcpProxy } from './tcp.ts';
export { HttpProxy } from './http.ts';
export { TlsProxy } from './tls.ts';
export type { TlsBehaviour, TlsLease, HandshakeCounts } from './tls.ts';
export { ThrowawayCa, LOOPBACK_HOSTS } from './tls/ca.ts';
export type { CertPair } from './tls/ca.ts';
export { ProxyError } from './base.ts';
export { startProxyApi, handleApiRequest, API_VERSION } from './api.ts';
export type { ProxyApi } from './api.ts';
export { runProxyCommand } from './command.ts';
export type { ProxyCommandOptions } from './command.ts';
export { toxicTypes } from './toxics/index.ts';
export { httpFaultTypes } from './http/index.ts';
export type { ProxyHandle, ProxyRegistry, ToxicInfo, ToxicRequest, StreamDirection } from './types.ts';
