/**
 * Loads a `.ts`/`.mts`/`.js`/`.mjs` scenario module. TypeScript goes through
 * tsx's loader (any TS syntax), JavaScript through plain import(). In both,
 * `import { defineScenario } from 'faultline'` resolves to this package, from
 * any directory. Loading is bounded (`timeoutMs`): a module whose top level
 * or default export never settles is an error with a clear message, not a hang.
 */
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

export const DEFAULT_LOAD_TIMEOUT_MS = 10_000;

const SELF = new URL('../index.ts', import.meta.url).href;
let hooked = false;

/** `faultline` (and `faultline/…` is not exported) resolves to this package wherever the scenario lives. */
function resolveSelf(): void {
  if (hooked) return;
  hooked = true;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === 'faultline') return { url: SELF, format: 'module', shortCircuit: true };
      return next(specifier, context);
    },
  });
}

/** A load that failed: the message says why in the user's terms (one line). */
export class LoadError extends Error {
  override name = 'LoadError';
}

/** The module's namespace, with a TS module compiled to CommonJS (a package without "type": "module") unwrapped. */
export async function loadModule(file: string): Promise<Record<string, unknown>> {
  resolveSelf();
  const abs = resolve(file);
  let ns: Record<string, unknown>;
  try {
    if (/\.(c|m)?tsx?$/.test(abs)) {
      const { tsImport } = await import('tsx/esm/api');
      ns = (await tsImport(pathToFileURL(abs).href, import.meta.url)) as Record<string, unknown>;
    } else {
      ns = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
    }
  } catch (e) {
    throw new LoadError(describeLoadError(e));
  }
  // tsx compiles `export default x` to `exports.default = x` outside ESM packages: import() then gives { default: { __esModule, default: x } }.
  const d = ns.default as Record<string, unknown> | undefined;
  if (d && typeof d === 'object' && d.__esModule === true) return d;
  return ns;
}

/** One line for a module that would not load: esbuild's own error (with its line and column), or the module's. */
export function describeLoadError(e: unknown): string {
  const err = e as Error & { code?: string };
  const msg = String(err?.message ?? err);
  const transform = /^Transform failed with \d+ errors?:\n(.*)/.exec(msg);
  if (transform) {
    // "/abs/file.ts:1:18: ERROR: Top-level await is currently not supported with the "cjs" output format"
    const m = /:(\d+):(\d+): ERROR: (.*)$/.exec(transform[1]!);
    const where = m ? `line ${m[1]}, column ${Number(m[2]) + 1}: ` : ''; // esbuild counts columns from 0
    const what = m ? m[3]! : transform[1]!;
    if (/Top-level await is currently not supported with the "cjs" output format/.test(what)) {
      return `${where}top-level await needs an ES module, and the nearest package.json does not say "type": "module" (add it, or rename the file to .mts)`;
    }
    return `${where}${what}`;
  }
  const first = msg.split('\n')[0]!;
  return err?.name && err.name !== 'Error' && !first.startsWith(err.name) ? `${err.name}: ${first}` : first;
}

/** Settles with `p`, or rejects with LoadError after `ms` (the timer keeps a module whose top-level await has nothing left to wait on from ending the process first). */
export function withLoadTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LoadError(`${what} did not finish loading within ${ms / 1000}s (a top-level await or a default export that never settles?); raise the limit with --load-timeout or FAULTLINE_LOAD_TIMEOUT`)),
      ms,
    );
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
