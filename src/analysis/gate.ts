/**
 * The exit gate: from the analysis and what happened to the run, the outcome
 * a CI job acts on. One place, so the exit code, the verdict sentence and
 * every report's clause verdicts cannot disagree.
 *
 * 0 held · 1 broke (below the required level, or under a fault not declared
 * `mayBreak`) · 3 aborted · 4 internal error (or an undo that failed) ·
 * 5 inconclusive (too few requests due, the generator was the limit, or an
 * agent's share of the load is missing, where the verdict was needed).
 */
import type { Result } from '../result.ts';
import { EXIT } from '../errors.ts';
import type { Analysis } from './analyze.ts';

/** What happened to the run itself, besides what it measured. */
export interface RunFacts {
  /** An internal error (the first line is the reason). */
  fatal?: string;
  /** Why the run was aborted (stop condition, signal, baseline, a service that never became ready). */
  abortReason?: string;
  undoFailures?: { fault: string; error: string }[];
}

export function decideOutcome(a: Analysis, facts: RunFacts): Result['outcome'] {
  let out = verdict(a, facts);
  const failed = facts.undoFailures ?? [];
  if (failed.length) {
    const held = out.exitCode === EXIT.held;
    out = {
      exitCode: held ? EXIT.internal : out.exitCode,
      status: held ? 'error' : out.status,
      reason: `${out.reason}; could not undo: ${failed.map((f) => `${f.fault} (${f.error})`).join(', ')}`,
    };
  }
  return out;
}

function verdict(a: Analysis, facts: RunFacts): Result['outcome'] {
  if (facts.fatal) return { exitCode: EXIT.internal, status: 'error', reason: facts.fatal.split('\n')[0] };
  if (facts.abortReason) return { exitCode: EXIT.aborted, status: 'aborted', reason: facts.abortReason };
  if (a.clauses.length === 0) return { exitCode: EXIT.held, status: 'held', reason: 'no hypothesis was given: measured only' };
  const fmt = (r: number) => `${Math.round(r).toLocaleString('en-US')} req/s`;
  const required = a.hypothesis.required;
  const bp = a.breakingPoint;
  const failing = a.clauses.filter((c) => c.outcome === 'fail');
  if (failing.length) {
    if (bp && failing.some((c) => c.clause === bp.clause && c.breakingPoint)) {
      return { exitCode: EXIT.broke, status: 'broke', reason: `the hypothesis broke at ${fmt(bp.firstFailing.rate)}${required !== undefined ? `, below the required ${fmt(required)}` : ''} (${bp.clause})` };
    }
    const byFault = failing.find((c) => c.brokenBy.length);
    if (byFault) {
      const names = byFault.brokenBy.map((f) => `"${f}"`).join(', ');
      return { exitCode: EXIT.broke, status: 'broke', reason: `fault ${names} broke the hypothesis (${byFault.clause}); declare \`mayBreak: true\` on a fault that is expected to` };
    }
    return { exitCode: EXIT.broke, status: 'broke', reason: `${failing[0].clause}: ${failing[0].reason}` };
  }
  // Scale-out: a run that did not break on load every agent sent says nothing over the load it did not send.
  if (a.agentGaps) return { exitCode: EXIT.inconclusive, status: 'inconclusive', reason: `inconclusive: ${a.agentGaps}: no verdict over load that was not sent` };
  const open = a.clauses.filter((c) => c.outcome === 'inconclusive');
  if (open.length) return { exitCode: EXIT.inconclusive, status: 'inconclusive', reason: `inconclusive: ${open.map((c) => `${c.clause} ${c.reason}`).join('; ')}` };
  if (required === undefined) {
    const allowed = a.breaches.filter((x) => x.sustained && x.attribution !== 'load');
    return { exitCode: EXIT.held, status: 'held', reason: allowed.length ? `the hypothesis held under load; ${allowed.length} breach(es) came with faults declared mayBreak` : 'the hypothesis held throughout' };
  }
  const heldTo = Math.min(...a.clauses.map((c) => c.heldTo ?? 0));
  return { exitCode: EXIT.held, status: 'held', reason: bp ? `the hypothesis held up to the required ${fmt(required)}; it broke at ${fmt(bp.firstFailing.rate)}` : `the hypothesis held up to ${fmt(heldTo)} (required ${fmt(required)})` };
}
