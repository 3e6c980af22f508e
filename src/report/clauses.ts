/**
 * Per-clause verdicts from a (saved) result, for reports that list each
 * hypothesis clause on its own (JUnit, HTML, compare): the breaking point of
 * that clause alone, found by the same rules as the run's (breaches.ts).
 */
import type { Result } from '../result.ts';
import { findBreakingPoint, type BreakingPoint } from '../analysis/breaches.ts';
import { plansOf, type HypothesisSection } from '../analysis/correlation.ts';
import { parseClause } from '../hypothesis/parse.ts';
import type { WindowVerdict } from '../hypothesis/evaluate.ts';
import type { StagePlan } from '../profiles/types.ts';

export interface ClauseVerdict {
  clause: string;
  /** Where this clause broke and stayed broken with no fault active. */
  breakingPoint?: BreakingPoint;
  /** It broke below the required level (or, with no requirement, at all). */
  failed: boolean;
  /** Highest load level at which it passed, req/s. */
  heldTo?: number;
  /** The generator ran out before this clause could be judged further. */
  generatorLimited?: { rate: number; reason: string };
}

export function hypothesisOf(r: Result): HypothesisSection | undefined {
  const h = r.hypothesis as HypothesisSection | undefined;
  return h && Array.isArray(h.clauses) ? h : undefined;
}

export function runStartOf(r: Result): number {
  return r.timeline.events.find((e) => e.type === 'run-start')?.t ?? r.timeline.windows[0]?.start ?? 0;
}

export function runEndOf(r: Result): number {
  return [...r.timeline.events].reverse().find((e) => e.type === 'run-end')?.t ?? r.timeline.windows[r.timeline.windows.length - 1]?.end ?? runStartOf(r);
}

export function clauseVerdicts(r: Result): ClauseVerdict[] {
  const h = hypothesisOf(r);
  if (!h) return [];
  const plans = plansOf(r.stages) as StagePlan[];
  const W = r.timeline.windows;
  return h.clauses.map((text, ci) => {
    const c = parseClause(text);
    if (typeof c === 'string') return { clause: text, failed: false };
    // This clause's verdicts alone, as if it were the whole hypothesis.
    const vs: WindowVerdict[] = W.map((w, i) => {
      const v = h.verdicts[i];
      const cv = v?.clauses[ci];
      const status = !v || !cv ? 'inconclusive' : v.status === 'excluded' ? 'excluded' : (cv.status as 'pass' | 'fail' | 'inconclusive');
      return { window: w.index, status, clauses: [{ clause: text, status: cv?.status === 'fail' ? 'fail' : cv?.status === 'pass' ? 'pass' : 'inconclusive', value: cv?.value ?? 0, samples: cv?.samples ?? 0 }] };
    });
    const found = findBreakingPoint(r.timeline, vs, [c], h.sustain, plans, runStartOf(r), runEndOf(r), r.meta.expectedPeak);
    const bp = found.breakingPoint;
    const required = h.required;
    let heldTo: number | undefined;
    W.forEach((w, i) => {
      if (vs[i].status === 'pass' && !w.generator.limited && (!bp || w.index < bp.firstFailing.window)) heldTo = Math.max(heldTo ?? 0, w.offeredRate);
    });
    const out: ClauseVerdict = { clause: text, failed: bp !== undefined && (required === undefined || required === null || bp.firstFailing.rate <= required) };
    if (bp) out.breakingPoint = bp;
    if (heldTo !== undefined) out.heldTo = bp?.lastPassing?.rate ?? heldTo;
    if (found.generatorLimit) out.generatorLimited = { rate: found.generatorLimit.rate, reason: found.generatorLimit.reason };
    return out;
  });
}
