/**
 * The one small interface every HTTP fault implements (HTTP-mode proxies).
 * The proxy applies each fault's method/path match and its per-request
 * probability (the toxic's `toxicity`) in one place, then calls the fault.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

export interface HttpFault {
  /** Whether this request is one the fault is about (method and path; see matchAttributes). */
  matches(method: string, pathname: string): boolean;
  /** Before forwarding: 'forward' to go on, 'done' when the fault answered or cut the request. */
  onRequest?(req: IncomingMessage, res: ServerResponse): Promise<'forward' | 'done'>;
  /** Rewrites the upstream response body; the proxy buffers a body only when such a fault hit. */
  rewriteBody?(body: Buffer, headers: IncomingHttpHeaders): Buffer;
  readonly disablesProxy?: boolean;
}

/**
 * `method`: one HTTP method (any case) or unset for all. `path`: unset for all;
 * with a `*` it is a glob over the whole path (`*` matches any characters,
 * slashes included: "/api/*\/pay"); without one it is a prefix ("/checkout"
 * matches "/checkout" and "/checkout/42"). The query string is ignored.
 */
export const matchAttributes = {
  method: z.string().min(1).optional(),
  path: z.string().startsWith('/').optional(),
};

export function compileMatch(a: { method?: string; path?: string }): (method: string, pathname: string) => boolean {
  const method = a.method?.toUpperCase();
  const path = a.path;
  let pathOk: (p: string) => boolean = () => true;
  if (path !== undefined && path.includes('*')) {
    const re = new RegExp('^' + path.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    pathOk = (p) => re.test(p);
  } else if (path !== undefined) {
    pathOk = (p) => p === path || p.startsWith(path.endsWith('/') ? path : path + '/');
  }
  return (m, p) => (method === undefined || m === method) && pathOk(p);
}

/** Interruptible-free sleep for request-scoped delays (a request is short-lived). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
