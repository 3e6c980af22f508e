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
      // Report the branch users most likely meant: the first one (an object).
      out.push(...formatIssues(is.errors[0] as z.core.$ZodIssue[], path));
    } else if (is.code === 'invalid_union' && is.discriminator !== undefined && 'options' in is) {
      out.push(`${where}: expected ${is.discriminator} to be one of ${(is.options ?? []).join(', ')}`);
    } else if (is.code === 'invalid_key' && 'issues' in is && Array.isArray(is.issues) && is.issues.length > 0) {
      // A record's key failed its own schema (a header name with a line break): say what it expected.
      out.push(`${where}: ${(is.issues[0] as z.core.$ZodIssue).message}`);
    } else {
      out.push(`${where || '(scenario)'}: ${is.message}`);
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
