/** Validation problems as one `path: message` line each (k6's way: every problem, not the first). */
import type { z } from 'zod';

/** Formats zod issues as `path: message`, one per problem. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: (string | number)[] = []): string[] {
  const out: string[] = [];
  for (const is of issues) {
    const path = [...prefix, ...is.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const where = fmtPath(path);
    if (is.code === 'unrecognized_keys') {
      for (const k of is.keys) out.push(`${fmtPath([...path, k])}: unknown key "${k}"`);
    } else if (is.code === 'invalid_union' && 'errors' in is && Array.isArray(is.errors) && is.errors.length > 0) {
      const branches = is.errors as z.core.$ZodIssue[][];
      if (branches.every((b) => b.length > 0 && b[0].path.length === 0 && (b[0].code === 'invalid_type' || b[0].code === 'invalid_value'))) {
        // The value itself is of none of the accepted kinds: name them all.
        const kinds = branches.map((b) => inWords(b[0], path).replace(/^(missing|empty): /, '').replace(/^expected /, '').replace(/, (got|e\.g\.) .*$/, ''));
        const first = inWords(branches[0][0], path);
        const lead = /^missing/.test(first) ? 'missing: ' : /^empty/.test(first) ? 'empty: ' : '';
        const key = [...path].reverse().find((p): p is string => typeof p === 'string');
        out.push(`${where || '(scenario)'}: ${lead}expected ${[...new Set(kinds)].join(' or ')}${key && EXAMPLES[key] ? `, e.g. ${key}: ${EXAMPLES[key]}` : ''}`);
      } else {
        // Report the branch users most likely meant: the first one (an object).
        out.push(...formatIssues(branches[0], path));
      }
    } else if (is.code === 'invalid_union' && is.discriminator !== undefined && 'options' in is) {
      out.push(`${where}: expected ${is.discriminator} to be one of ${(is.options ?? []).join(', ')}`);
    } else if (is.code === 'invalid_key' && 'issues' in is && Array.isArray(is.issues) && is.issues.length > 0) {
      // A record's key failed its own schema (a header name with a line break): say what it expected.
      out.push(`${where}: ${(is.issues[0] as z.core.$ZodIssue).message}`);
    } else {
      out.push(`${where || '(scenario)'}: ${inWords(is, path)}`);
    }
  }
  return out;
}

export function fmtPath(path: (string | number)[]): string {
  let s = '';
  // A key that is not a plain name (spaces, line breaks, quotes) is quoted, so the path stays one readable line.
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : !/^[\w$-]+$/.test(p) ? `[${JSON.stringify(p)}]` : s ? `.${p}` : p;
  return s;
}

/** What a value of each type is called in a scenario file. */
const TYPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'a mapping (key: value)',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** An example value per key, shown after a problem with that key. */
const EXAMPLES: Record<string, string> = {
  target: '"http://127.0.0.1:8080"',
  requests: '[{ name: home, path: / }]',
  load: '{ profile: constant, rate: 100, duration: 10s }',
  baseline: '{ rate: 50, duration: 5s } or false',
  hypothesis: '["p99 < 250ms", "errors < 1%"]',
  stop: '["errors > 50% for 5s"]',
  faults: '[{ kind: latency, target: db, latency: 200ms, at: 10s, duration: 5s }]',
  services: '{ db: { command: node, args: [db.js], ports: [5432] } }',
  proxies: '{ db: { listen: "127.0.0.1:4000", upstream: "127.0.0.1:5432" } }',
  engine: '{ workers: 2, timeout: 5s }',
  name: '"checkout"',
  path: '/products',
  method: 'GET',
  weight: '2',
  kind: 'latency',
  headers: '{ accept: application/json }',
  expectedPeak: '400',
  duration: '10s',
  stepDuration: '10s',
  window: '1s',
  timeout: '5s',
  rate: '"500" or "1.5x"',
  from: '"0.25x"',
  to: '"3x"',
  steps: '12',
  minSamples: '20',
  sustain: '2',
  workers: '2',
  connections: '100',
  probability: '0.5',
  mayBreak: 'true or [checkout]',
};

/** A zod issue in the user's words: what was expected, what came, and an example for the key. */
function inWords(is: z.core.$ZodIssue, path: (string | number)[]): string {
  const key = [...path].reverse().find((p): p is string => typeof p === 'string');
  const ex = key !== undefined && EXAMPLES[key] ? `, e.g. ${key}: ${EXAMPLES[key]}` : '';
  const i = is as z.core.$ZodIssue & { expected?: string; values?: unknown[]; minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean; origin?: string };
  // A message a schema wrote itself is already in the user's words; only zod's defaults are rewritten.
  if (!/^(Invalid input|Invalid option|Too small|Too big)/.test(i.message)) return i.message;
  switch (i.code) {
    case 'invalid_type': {
      const want = TYPE_WORDS[i.expected ?? ''] ?? i.expected ?? 'another type';
      const got = /received (\w+)/.exec(i.message)?.[1];
      if (got === 'undefined') return `missing: expected ${want}${ex}`;
      if (got === 'null') return `empty: expected ${want}${ex}`;
      return `expected ${want}, got ${TYPE_WORDS[got ?? ''] ?? got ?? 'something else'}${ex}`;
    }
    case 'invalid_value': {
      const vs = (i.values ?? []).map((v) => JSON.stringify(v));
      return `expected ${vs.length === 1 ? vs[0] : `one of ${vs.join(', ')}`}${ex}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = i.code === 'too_small';
      const n = Number(small ? i.minimum : i.maximum);
      const bound = small ? (i.inclusive === false ? 'more than' : 'at least') : i.inclusive === false ? 'less than' : 'at most';
      if (i.origin === 'string') return `expected ${bound} ${n} character${n === 1 ? '' : 's'}${ex}`;
      if (i.origin === 'array' || i.origin === 'set') return `expected ${bound} ${n} item${n === 1 ? '' : 's'}${ex}`;
      return `expected a number ${bound} ${n}${ex}`;
    }
    default:
      return i.message;
  }
}
