/**
 * Reporters by name: each writes one kind of file from a Result alone.
 * `publish` is the one way a result leaves faultline — after a run and from
 * `faultline report` alike: it redacts secrets, fills in what an older result
 * lacks, writes every requested file and prints the terminal report, so both
 * print the same thing. The result JSON is also kept (`.faultline/last-result.json`)
 * after a run so nothing measured is lost, whatever flags were given.
 */
import { join } from 'node:path';
import type { Result } from '../result.ts';
import { writeJson, outputProblem, ensureDir, resolveOutput } from './json.ts';
import { EXIT } from '../errors.ts';
import { writeHtml } from './html.ts';
import { writeJunit } from './junit.ts';
import { writeHdrLog } from './hdrlog.ts';
import { redact } from './redact.ts';
import { upgradeResult } from '../analysis/upgrade.ts';
import { paint } from './format.ts';
import { renderReport, verdictSentence } from './terminal.ts';

export interface OutputFlags {
  json?: string;
  html?: string;
  junit?: string;
  hdrLog?: string;
}

export type Reporter = (r: Result, path: string) => Promise<void>;

export const reporters: Record<keyof OutputFlags, Reporter | undefined> = {
  json: (r, p) => writeJson(p, r),
  html: writeHtml,
  junit: writeJunit,
  hdrLog: writeHdrLog,
};

/** The result as every report sees it: secrets redacted, in the current version's shape (an older file is analysed once, here). */
export function prepare(r: Result): Result {
  return upgradeResult(redact(r));
}

const flagName = (k: keyof OutputFlags) => (k === 'hdrLog' ? 'hdr-log' : k);

/** Every problem with the requested output files, one line each, checked before any load is sent (nothing is created). */
export function checkOutputs(flags: OutputFlags): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const k of Object.keys(reporters) as (keyof OutputFlags)[]) {
    const path = flags[k];
    if (path === undefined) continue;
    const p = outputProblem(path);
    if (p) problems.push(`--${flagName(k)}: ${p}`);
    const target = resolveOutput(path).target;
    const other = seen.get(target);
    if (other) problems.push(`--${flagName(k)} and --${other} name the same file (${target})`);
    seen.set(target, flagName(k));
  }
  return problems;
}

/**
 * Writes every requested file (and, given a state directory, the last-result
 * copy); returns the paths written. Reporting errors are printed, not thrown.
 * Callers pass a result that went through `prepare`.
 */
export async function writeOutputs(r: Result, flags: OutputFlags, stateDir?: string, failures: string[] = []): Promise<string[]> {
  const written: string[] = [];
  if (stateDir !== undefined) {
    try {
      ensureDir(stateDir);
    } catch (e) {
      failures.push(`could not keep the result in ${stateDir}: ${(e as Error).message}`);
    }
  }
  const keep = stateDir === undefined ? undefined : join(stateDir, 'last-result.json');
  const jobs: [keyof OutputFlags, string][] = keep ? [['json', keep]] : [];
  for (const k of Object.keys(reporters) as (keyof OutputFlags)[]) if (flags[k]) jobs.push([k, flags[k]!]);
  for (const [k, path] of jobs) {
    const rep = reporters[k];
    if (!rep) {
      process.stderr.write(`faultline: --${k === 'hdrLog' ? 'hdr-log' : k} is not available in this build\n`);
      continue;
    }
    try {
      await rep(r, path);
      if (path !== keep) {
        const { target, link } = resolveOutput(path);
        written.push(link ? `${path} → ${target}` : path);
      }
    } catch (e) {
      const line = `could not write ${path}: ${(e as Error).message}`;
      failures.push(line);
      process.stderr.write(`faultline: ${line}\n`);
    }
  }
  return written;
}

export interface PublishOptions {
  /** Keep `last-result.json` here (runs do; `report` does not). */
  stateDir?: string;
  /** Print only the verdict and the exit line. */
  quiet?: boolean;
  /** Plain output even on a TTY. */
  plain?: boolean;
  out?: NodeJS.WriteStream;
}

/** Redacts, writes the requested files and prints the report. Returns the prepared result. */
export async function publish(raw: Result, flags: OutputFlags, opts: PublishOptions = {}): Promise<Result> {
  const r = prepare(raw);
  const failures: string[] = [];
  const files = await writeOutputs(r, flags, opts.stateDir, failures);
  if (failures.length > 0) {
    // A requested file that could not be written fails the command (a CI gate must not pass on a missing report);
    // what was measured is still in the state directory's last-result.json when that could be written.
    const code = r.outcome.exitCode === EXIT.held ? EXIT.internal : r.outcome.exitCode;
    r.outcome = { ...r.outcome, exitCode: code, status: code === EXIT.internal ? 'error' : r.outcome.status, reason: `${r.outcome.reason}; ${failures.join('; ')}` };
    raw.outcome = r.outcome;
  }
  const stream = opts.out ?? process.stdout;
  if (opts.quiet) stream.write(`${verdictSentence(r)}\nexit ${r.outcome.exitCode}: ${r.outcome.reason}\n`);
  else stream.write(renderReport(r, paint(stream, opts.plain), files) + '\n');
  return r;
}
