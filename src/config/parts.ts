/**
 * Validation of the scenario's `services` and `proxies` entries, delegated to
 * the schemas of the modules that own them. One `path: message` line per problem.
 */
import type { z } from 'zod';
import { serviceSpecSchema } from '../services/schema.ts';
import { proxySpecSchema } from '../proxy/schema.ts';
import { formatIssues } from './issues.ts';

function check(kind: 'services' | 'proxies', schema: z.ZodType, entries: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [name, v] of Object.entries(entries)) {
    const r = schema.safeParse(v);
    if (!r.success) out.push(...formatIssues(r.error.issues, [kind, name]));
  }
  return out;
}

export const loadSpecSchemas = {
  checkServices: (s: Record<string, unknown>) => check('services', serviceSpecSchema, s),
  checkProxies: (p: Record<string, unknown>) => check('proxies', proxySpecSchema, p),
};
