/**
 * Secrets never reach a report. One function, `redact`, is applied to a result
 * (and to each live event) before anything is written or printed: credential
 * headers (Authorization, Cookie, Set-Cookie, X-Api-Key and the like) lose
 * their values wherever they appear — as object keys, as `Name: value` text in
 * a command line or an error example, as `--header` flags — and URLs lose
 * their user:password part. Histograms (encoded) are left alone.
 */

export const REDACTED = '[REDACTED]';

/** Header names whose values are secrets. */
const SECRET_HEADER = String.raw`(?:proxy-)?authorization|cookie|set-cookie|x-[a-z0-9-]*(?:api|auth|token|secret|key|session|password|signature)[a-z0-9-]*|api-?key|x-csrf-token|x-xsrf-token`;
const SECRET_KEY = new RegExp(`^(?:${SECRET_HEADER}|password|passwd|secret|token|access_token|refresh_token|client_secret|api_key|apikey)$`, 'i');

/**
 * `Name: value` / `Name=value` up to the end of the header value: a quote, a
 * newline, or (in a command line) the next flag. Cookie values may hold spaces
 * and `;`, so the whole rest is taken.
 */
const HEADER_TEXT = new RegExp(`(^|[^A-Za-z0-9-])(${SECRET_HEADER})("?\\s*[:=]\\s*"?)([^"'\\r\\n]*?)(?=$|["'\\r\\n]|\\s+-{1,2}[A-Za-z])`, 'gim');
/** scheme://user:password@host, or scheme://token@host. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:"']+)(?::([^\s/@"']*))?@/gi;
/** A bare bearer/basic token after the header name was already handled elsewhere (e.g. "Bearer abc"). */
const BEARER = /\b(Bearer|Basic|Digest|Token)\s+[A-Za-z0-9\-._~+/=]{8,}/g;
/** Query parameters that carry secrets. */
const QUERY_SECRET = /([?&](?:access_token|token|api_key|apikey|key|password|secret|signature|sig|auth)=)[^&\s"'#]+/gi;

/** Redacts secrets inside one string. */
export function redactText(s: string): string {
  if (s.length > 64 && s.startsWith('HIST')) return s; // an encoded histogram
  let out = s.replace(URL_CREDENTIALS, (_m, scheme: string) => `${scheme}${REDACTED}@`);
  out = out.replace(HEADER_TEXT, (m, pre: string, name: string, sep: string, value: string) => (value.trim().length ? `${pre}${name}${sep}${REDACTED}` : m));
  out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  out = out.replace(QUERY_SECRET, (_m, k: string) => `${k}${REDACTED}`);
  return out;
}

/** A deep copy of `v` with every secret redacted. Never mutates its argument. */
export function redact<T>(v: T): T {
  return walk(v, undefined) as T;
}

function walk(v: unknown, key: string | undefined): unknown {
  if (typeof v === 'string') return key !== undefined && SECRET_KEY.test(key) ? REDACTED : redactText(v);
  if (Array.isArray(v)) return v.map((x) => walk(x, undefined));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const safeKey = redactText(k);
      out[safeKey] = SECRET_KEY.test(k) && (typeof x === 'string' || typeof x === 'number') ? REDACTED : walk(x, k);
    }
    return out;
  }
  return v;
}
