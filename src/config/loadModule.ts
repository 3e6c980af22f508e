/**
 * Loads a `.ts`/`.mts`/`.js`/`.mjs` scenario module. TypeScript goes through
 * tsx's loader (any TS syntax, and `import { defineScenario } from 'faultline'`
 * resolves to this package), JavaScript through plain import().
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

export async function loadModule(file: string): Promise<unknown> {
  const abs = resolve(file);
  if (/\.(c|m)?tsx?$/.test(abs)) {
    const { tsImport } = await import('tsx/esm/api');
    return await tsImport(pathToFileURL(abs).href, import.meta.url);
  }
  return await import(pathToFileURL(abs).href);
}
