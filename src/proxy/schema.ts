/** The scenario's `proxies` entries, and starting them all before a run. */
import { z } from 'zod';
import { isLoopbackHost, parseHostPort } from '../config/units.ts';
import { UsageError } from '../errors.ts';
import { Proxies } from './registry.ts';
import type { ThrowawayCa } from './tls/ca.ts';

const zLoopbackHostPort = z.string().superRefine((v, ctx) => {
  const hp = parseHostPort(v);
  if (!hp) ctx.addIssue({ code: 'custom', message: `expected host:port like "127.0.0.1:4000", got ${JSON.stringify(v)}` });
  else if (!isLoopbackHost(hp.host)) ctx.addIssue({ code: 'custom', message: `${v} is not a loopback address (use 127.0.0.1, localhost or [::1])` });
});

/**
 * One `proxies` entry: `{ listen: "127.0.0.1:4000", upstream: "127.0.0.1:4001", mode?: "tcp" | "http" | "tls" }`.
 * `tls` terminates TLS with a certificate from the run's throwaway CA and forwards plaintext.
 */
export const proxySpecSchema = z.strictObject({
  listen: zLoopbackHostPort,
  upstream: zLoopbackHostPort,
  mode: z.enum(['tcp', 'http', 'tls']).default('tcp'),
});

/** The whole `proxies` map, by name. */
export const proxiesSchema = z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a proxy name is letters, digits, "_", "." or "-"'), proxySpecSchema);

/** One validated `proxies` entry. */
export type ProxySpec = z.output<typeof proxySpecSchema>;

/**
 * Starts every proxy. When one cannot listen (port taken), the ones already
 * started are closed and a UsageError says which, in one line:
 * `proxies.payment.listen: 127.0.0.1:4000 is already in use`.
 */
export async function startProxies(specs: Record<string, Omit<ProxySpec, 'mode'> & { mode?: ProxySpec['mode'] }>, opts: { random?: () => number; ca?: ThrowawayCa } = {}): Promise<Proxies> {
  const proxies = new Proxies({ ca: opts.ca });
  for (const [name, spec] of Object.entries(specs)) {
    try {
      await proxies.create({ name, listen: spec.listen, upstream: spec.upstream, mode: spec.mode ?? 'tcp', random: opts.random });
    } catch (err) {
      await proxies.closeAll();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`proxies.${name}.listen: ${spec.listen} is already in use`);
      if (code === 'EADDRNOTAVAIL') throw new UsageError(`proxies.${name}.listen: ${spec.listen} is not an address of this machine`);
      throw new UsageError(`proxies.${name}: ${(err as Error).message}`);
    }
  }
  return proxies;
}
