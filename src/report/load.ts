/**
 * Reading a saved result for `report` and `compare`: anything that is not a
 * faultline result (unreadable, not JSON, the wrong shape, a newer version) is
 * one line of usage error (exit 2), never a stack trace.
 */
import { readFile } from 'node:fs/promises';
import type { Result } from '../result.ts';
import { RESULT_VERSION } from '../result.ts';
import { UsageError } from '../errors.ts';
import { upgradeResult } from '../analysis/upgrade.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What is wrong with `v` as a result, or undefined when it looks like one. */
export function resultProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'not a faultline result (expected a JSON object)';
  if (v.version === undefined || !isObj(v.meta) || !Array.isArray(v.stages) || !isObj(v.timeline) || !isObj(v.outcome)) {
    const missing = ['version', 'meta', 'stages', 'timeline', 'outcome'].filter((k) => v[k] === undefined);
    return `not a faultline result (${missing.length ? `missing ${missing.join(', ')}` : 'sections of the wrong type'})`;
  }
  if (typeof v.version !== 'number' || v.version > RESULT_VERSION) return `result version ${JSON.stringify(v.version)} is not one this faultline reads (it reads up to ${RESULT_VERSION})`;
  const t = v.timeline;
  if (!Array.isArray(t.windows) || !Array.isArray(t.events) || typeof t.tickMs !== 'number') return 'not a faultline result (timeline without windows, events or tickMs)';
  const m = v.meta;
  if (typeof m.target !== 'string' || typeof m.startedAt !== 'string') return 'not a faultline result (meta without target or startedAt)';
  const o = v.outcome;
  if (typeof o.exitCode !== 'number' || typeof o.reason !== 'string') return 'not a faultline result (outcome without exitCode or reason)';
  for (const [i, w] of (t.windows as unknown[]).entries()) {
    if (!isObj(w) || typeof w.start !== 'number' || typeof w.end !== 'number' || !isObj(w.overall) || !isObj(w.byName)) return `not a faultline result (timeline.windows[${i}] is malformed)`;
    if (typeof (w.overall as Record<string, unknown>).latency !== 'string') return `not a faultline result (timeline.windows[${i}].overall has no latency histogram)`;
  }
  for (const [i, s] of (v.stages as unknown[]).entries()) {
    if (!isObj(s) || typeof s.index !== 'number' || !isObj(s.latency)) return `not a faultline result (stages[${i}] is malformed)`;
  }
  return undefined;
}

/** Loads a result file; throws a one-line UsageError when it cannot. */
export async function loadResult(path: string): Promise<Result> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message.split('\n')[0]}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const problem = resultProblem(v);
  if (problem) throw new UsageError(`${path}: ${problem}`);
  return upgradeResult(v as Result);
}
