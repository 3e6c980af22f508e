/**
 * The scenario's `services` and `proxies` entries, parsed once by the schemas
 * of the modules that own them: typed specs for the run, and one
 * `path: message` line per problem.
 */
import type { z } from 'zod';
import { serviceSpecSchema, type ServiceSpec } from '../services/schema.ts';
import { proxySpecSchema, type ProxySpec } from '../proxy/schema.ts';
import { formatIssues } from './issues.ts';

function parseEntries<T>(kind: 'services' | 'proxies', schema: z.ZodType<T>, entries: Record<string, unknown>): { specs: Record<string, T>; problems: string[] } {
  const specs: Record<string, T> = {};
  const problems: string[] = [];
  for (const [name, v] of Object.entries(entries)) {
    const r = schema.safeParse(v);
    if (r.success) specs[name] = r.data;
    else problems.push(...formatIssues(r.error.issues, [kind, name]));
  }
  return { specs, problems };
}

export const parseServices = (s: Record<string, unknown>) => parseEntries<ServiceSpec>('services', serviceSpecSchema, s);
export const parseProxies = (p: Record<string, unknown>) => parseEntries<ProxySpec>('proxies', proxySpecSchema, p);
