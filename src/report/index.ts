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
import { json, outputProblem, ensureDir, resolveOutput, writeFileAtomic } from './json.ts';
import { EXIT } from '../errors.ts';
import { html } from './html.ts';
import { junit } from './junit.ts';
import { hdrLogReporter } from './hdrlog.ts';
import type { Reporter } from './reporter.ts';
import { byName } from '../registry.ts';
import { redact } from './redact.ts';
import { upgradeResult } from '../analysis/upgrade.ts';
import { paint } from './format.ts';
import { renderReport, verdictSentence } from './terminal.ts';

/** Every file reporter, by name: each is an output flag `--<name> <file>` of run and report. Adding one is a file and a line. */
export const reporters: Record<string, Reporter> = byName([json, html, junit, hdrLogReporter]);

/** Output files by commander's attribute name of each reporter's flag (`hdrLog` for --hdr-log). */
export type OutputFlags = { [flag: string]: unknown };

/** The attribute commander gives a reporter's flag (`--hdr-log` → `hdrLog`). */
export const flagAttribute = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The requested output files: each reporter with the path its flag gave. */
function requested(flags: OutputFlags): [Reporter, string][] {
  const out: [Reporter, string][] = [];
  for (const rep of Object.values(reporters)) {
    const path = flags[flagAttribute(rep.name)];
    if (typeof path === 'string') out.push([rep, path]);
  }
  return out;
}

/** The result as every report sees it: secrets redacted, in the current version's shape (an older file is analysed once, here). */
export function prepare(r: Result): Result {
  return upgradeResult(redact(r));
}

/** Every problem with the requested output files, one line each, checked before any load is sent (nothing is created). */
export function checkOutputs(flags: OutputFlags): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [rep, path] of requested(flags)) {
    const p = outputProblem(path);
    if (p) problems.push(`--${rep.name}: ${p}`);
    const target = resolveOutput(path).target;
    const other = seen.get(target);
    if (other) problems.push(`--${rep.name} and --${other} name the same file (${target})`);
    seen.set(target, rep.name);
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
  const jobs: [Reporter, string][] = keep ? [[reporters.json, keep]] : [];
  jobs.push(...requested(flags));
  for (const [rep, path] of jobs) {
    try {
      await writeFileAtomic(path, rep.render(r));
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
