/**
 * Reading an older result: version 1 stored the hypothesis as clause text
 * and no clause verdicts. Upgrading analyses its Timeline once, with the
 * same `analyze` a run uses, so every report of an old file reads the same
 * typed analysis a new one carries. The outcome (the exit code the run ended
 * with) is kept as it was written.
 */
import type { Result } from '../result.ts';
import { RESULT_VERSION } from '../result.ts';
import { parseClause, type Clause } from '../hypothesis/parse.ts';
import { analyze } from './analyze.ts';
import { plansOf } from './correlation.ts';

/** The hypothesis section of a version-1 result. */
interface HypothesisV1 {
  clauses: string[];
  windowMs?: number;
  sustain: number;
  minSamples: number;
  required?: number | null;
}

export function runStartOf(r: Pick<Result, 'timeline'>): number {
  return r.timeline.events.find((e) => e.type === 'run-start')?.t ?? r.timeline.windows[0]?.start ?? 0;
}

export function runEndOf(r: Pick<Result, 'timeline'>): number {
  return [...r.timeline.events].reverse().find((e) => e.type === 'run-end')?.t ?? r.timeline.windows[r.timeline.windows.length - 1]?.end ?? runStartOf(r);
}

/** A result in the current version's shape (the same object when it already is). */
export function upgradeResult(r: Result): Result {
  if (r.version >= 2 && Array.isArray(r.clauses)) return r;
  const h = r.hypothesis as unknown as HypothesisV1 | undefined;
  const texts = h && Array.isArray(h.clauses) ? h.clauses.filter((c): c is string => typeof c === 'string') : [];
  const clauses = texts.map((t) => parseClause(t)).filter((c): c is Clause => typeof c !== 'string');
  const plans = plansOf(r.stages).map((p, i) => ({ ...p, kind: 'load' as const, warmupMs: r.stages[i].warmupMs ?? 0 }));
  const a = analyze(r.timeline, {
    clauses,
    windowMs: h?.windowMs ?? r.timeline.tickMs,
    sustain: h?.sustain ?? 2,
    minSamples: h?.minSamples ?? 20,
    plans,
    stages: r.stages,
    runStart: runStartOf(r),
    runEnd: runEndOf(r),
    expectedPeak: r.meta.expectedPeak,
    required: h?.required ?? undefined,
  });
  return { ...r, ...a, version: RESULT_VERSION, upgradedFrom: r.version };
}
