/**
 * Reporters by name: each writes one kind of file from a Result alone.
 * The result JSON is always kept (`.faultline/last-result.json`) so nothing
 * measured is lost, whatever flags were given.
 */
import { join } from 'node:path';
import type { Result } from '../result.ts';
import { writeJson } from './json.ts';

export interface OutputFlags {
  json?: string;
  html?: string;
  junit?: string;
  hdrLog?: string;
}

export type Reporter = (r: Result, path: string) => Promise<void>;

export const reporters: Record<keyof OutputFlags, Reporter | undefined> = {
  json: (r, p) => writeJson(p, r),
  html: undefined,
  junit: undefined,
  hdrLog: undefined,
};

/** Writes every requested file (and the last-result copy); returns the paths written. Reporting errors are printed, not thrown. */
export async function writeOutputs(r: Result, flags: OutputFlags, stateDir: string): Promise<string[]> {
  const written: string[] = [];
  const jobs: [keyof OutputFlags, string][] = [['json', join(stateDir, 'last-result.json')]];
  for (const k of Object.keys(reporters) as (keyof OutputFlags)[]) if (flags[k]) jobs.push([k, flags[k]!]);
  for (const [k, path] of jobs) {
    const rep = reporters[k];
    if (!rep) {
      process.stderr.write(`faultline: --${k === 'hdrLog' ? 'hdr-log' : k} is not available in this build\n`);
      continue;
    }
    try {
      await rep(r, path);
      if (path !== join(stateDir, 'last-result.json')) written.push(path);
    } catch (e) {
      process.stderr.write(`faultline: could not write ${path}: ${(e as Error).message}\n`);
    }
  }
  return written;
}
