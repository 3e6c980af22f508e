/**
 * Secrets never reach a report. One function, `redact`, is applied to a result
 * (and to each live event and line) before anything is written or printed.
 *
 * By rule, not by list: any header, query or body parameter, or object key
 * whose *name contains* one of the secret words (token, secret, session, key,
 * auth, password, cookie, and a few more below; add your own with
 * FAULTLINE_REDACT=word,word) loses its value wherever it appears — as an
 * object key, as `Name: value` text in a command line or an error example, as
 * a `--header` flag, as `?name=value` / `&name=value` — and URLs lose their
 * user:password part. Histograms (encoded) are left alone.
 */

export const REDACTED = '[REDACTED]';

/** Words that make a name secret when it contains them (case-insensitive). */
export const SECRET_WORDS = ['token', 'secret', 'session', 'sessid', 'key', 'auth', 'password', 'passwd', 'cookie', 'signature', 'credential', 'jwt'] as const;

function words(env: NodeJS.ProcessEnv): string[] {
  const extra = (env.FAULTLINE_REDACT ?? '')
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter((w) => /^[a-z0-9_-]+$/.test(w));
  return [...SECRET_WORDS, ...extra];
}

interface Rules {
  name: RegExp;
  header: RegExp;
  param: RegExp;
}

let cached: { key: string; rules: Rules } | undefined;

function rules(): Rules {
  const list = words(process.env);
  const key = list.join(',');
  if (cached?.key === key) return cached.rules;
  const w = list.map((x) => x.replace(/-/g, '\\-')).join('|');
  // A header or parameter name: token characters, one of the words inside.
  const NAME = `[A-Za-z0-9_-]*(?:${w})[A-Za-z0-9_-]*`;
  const r: Rules = {
    name: new RegExp(`^${NAME}$`, 'i'),
    /**
     * `Name: value` / `Name=value` / `"name":"value"` up to the end of the value: a quote, a
     * newline, or (in a command line) the next flag. Cookie values may hold spaces and `;`, so
     * the whole rest is taken. Not after `?`/`&`: that is a parameter (below), which ends at `&`.
     */
    header: new RegExp(`(^|[^A-Za-z0-9_\\-?&])(${NAME})("?\\s*[:=]\\s*"?)([^"'\\r\\n]*?)(?=$|["'\\r\\n]|\\s+-{1,2}[A-Za-z])`, 'gim'),
    /** `?name=value` / `&name=value` in a URL or a form body, up to the next `&`. */
    param: new RegExp(`([?&])(${NAME})=([^&\\s"'#]*)`, 'gi'),
  };
  cached = { key, rules: r };
  return r;
}

/** Whether a header, parameter or key name is secret by the rule. */
export function isSecretName(name: string): boolean {
  return rules().name.test(name);
}

/** scheme://user:password@host, or scheme://token@host. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:"']+)(?::([^\s/@"']*))?@/gi;
/** A bare bearer/basic token after the header name was already handled elsewhere (e.g. "Bearer abc"). */
const BEARER = /\b(Bearer|Basic|Digest|Token)\s+[A-Za-z0-9\-._~+/=]{8,}/g;

/** Redacts secrets inside one string. */
export function redactText(s: string): string {
  if (s.length > 64 && s.startsWith('HIST')) return s; // an encoded histogram
  const r = rules();
  let out = s.replace(URL_CREDENTIALS, (_m, scheme: string) => `${scheme}${REDACTED}@`);
  out = out.replace(r.param, (m, sep: string, name: string, value: string) => (value ? `${sep}${name}=${REDACTED}` : m));
  out = out.replace(r.header, (m, pre: string, name: string, sep: string, value: string) =>
    value.trim().length && !value.startsWith(REDACTED) ? `${pre}${name}${sep}${REDACTED}` : m,
  );
  out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  return out;
}

/** A deep copy of `v` with every secret redacted. Never mutates its argument. */
export function redact<T>(v: T): T {
  return walk(v) as T;
}

function walk(v: unknown): unknown {
  if (typeof v === 'string') return redactText(v);
  if (Array.isArray(v)) return v.map(walk);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // A secret-named key keeps its (structural) numbers and objects, never its text.
      out[redactText(k)] = typeof x === 'string' && isSecretName(k) ? REDACTED : walk(x);
    }
    return out;
  }
  return v;
}
