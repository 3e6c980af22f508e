/**
 * `faultline merge`: result files of runs that shared one load (agents run
 * apart, or runs started together on several machines) combined offline into
 * one result, exactly: window by window (the n-th window of each stage in each
 * file), histograms added bucket for bucket, counters added, offered rates
 * added; then analysed with the same `analyze` a run uses. A file with no n-th
 * window there is named in that window's agentProblems (inconclusive).
 */
import { basename } from 'node:path';
import type { Result } from '../result.ts';
import { RESULT_VERSION } from '../result.ts';
import type { AgentProblem, AgentSummary, StageResult, Timeline, TimelineEvent, Window } from '../timeline.ts';
import type { StagePlan } from '../profiles/types.ts';
import { fmtRate } from '../profiles/types.ts';
import { combineWindows, stageResult } from '../metrics/merge.ts';
import { analyze } from '../analysis/analyze.ts';
import { decideOutcome } from '../analysis/gate.ts';
import { runEndOf, runStartOf } from '../analysis/upgrade.ts';
import { parseClause, type Clause } from '../hypothesis/parse.ts';
import { UsageError } from '../errors.ts';

export interface NamedResult {
  /** The file it came from (names its share in problems). */
  file: string;
  result: Result;
}

/** Every reason the files cannot be merged, one line each (empty when they can). */
export function mergeProblems(rs: readonly NamedResult[]): string[] {
  const out: string[] = [];
  if (rs.length < 2) return ['merge needs at least two result files'];
  const [a, ...rest] = rs;
  const clauseText = (r: Result) => (r.hypothesis?.clauses ?? []).map((c) => (typeof c === 'string' ? c : c.text)).join(', ');
  for (const b of rest) {
    const where = `${b.file} and ${a.file}`;
    if (b.result.timeline.tickMs !== a.result.timeline.tickMs) out.push(`${where} have different windows (${b.result.timeline.tickMs} ms vs ${a.result.timeline.tickMs} ms)`);
    if (b.result.stages.length !== a.result.stages.length) out.push(`${where} have different stages (${b.result.stages.length} vs ${a.result.stages.length})`);
    else b.result.stages.forEach((s, i) => s.model !== a.result.stages[i].model && out.push(`${where}: stage ${i} is ${s.model} in one, ${a.result.stages[i].model} in the other`));
    if (clauseText(b.result) !== clauseText(a.result)) out.push(`${where} judge different hypotheses ("${clauseText(b.result)}" vs "${clauseText(a.result)}")`);
    if (b.result.meta.target !== a.result.meta.target) out.push(`${where} load different targets (${b.result.meta.target} vs ${a.result.meta.target})`);
  }
  return out;
}

/** One window from the same window of several files: exact (HDR add), counters add. */
export function mergeWindowSet(index: number, ws: readonly Window[], missing: AgentProblem[] = []): Window {
  const w = combineWindows(ws, { index });
  if (missing.length) w.agentProblems = [...(w.agentProblems ?? []), ...missing];
  return w;
}

export function mergeResults(rs: readonly NamedResult[], command?: string): Result {
  const problems = mergeProblems(rs);
  if (problems.length) throw new UsageError(problems);
  const label = (f: string) => basename(f);
  const first = rs[0].result;
  const nStages = first.stages.length;
  const windows: Window[] = [];
  const perFile = rs.map(() => ({ sent: 0, requests: 0, missing: 0 }));
  for (let s = 0; s < nStages; s++) {
    const lists = rs.map((x) => x.result.timeline.windows.filter((w) => w.stage === s).sort((a, b) => a.start - b.start));
    const n = Math.max(...lists.map((l) => l.length));
    for (let j = 0; j < n; j++) {
      const have: Window[] = [];
      const missing: AgentProblem[] = [];
      lists.forEach((l, f) => {
        const w = l[j];
        if (w) {
          have.push(w);
          perFile[f].sent += w.sent;
          perFile[f].requests += w.overall.requests;
        } else {
          perFile[f].missing++;
          missing.push({ agent: label(rs[f].file), problem: 'dead', detail: `${rs[f].file} has no window ${j} of stage ${s} (its run ended or was cut short)` });
        }
      });
      windows.push(mergeWindowSet(windows.length, have, missing));
    }
  }
  // Stages planned as the sum of the files' plans: together they sent the sum of their loads.
  const plans: StagePlan[] = first.stages.map((st, i) => {
    const all = rs.map((x) => x.result.stages[i]);
    const sum = (f: (s: StageResult) => number) => all.reduce((a, s) => a + f(s), 0);
    const rateFrom = sum((s) => s.rateFrom ?? s.offeredRate);
    const rateTo = sum((s) => s.rateTo ?? s.offeredRate);
    const concurrency = sum((s) => s.concurrency ?? 0);
    return {
      label: st.model === 'closed' ? `${concurrency} concurrent` : rateFrom === rateTo ? `${fmtRate(rateFrom)} req/s` : `${fmtRate(rateFrom)}→${fmtRate(rateTo)} req/s`,
      kind: 'load',
      model: st.model,
      rateFrom: st.model === 'open' ? rateFrom : 0,
      rateTo: st.model === 'open' ? rateTo : 0,
      concurrency,
      durationMs: Math.max(...all.map((s) => s.end - s.start)),
      warmupMs: st.warmupMs ?? 0,
    };
  });
  const stages = plans.map((p, i) => {
    const ws = windows.filter((w) => w.stage === i);
    const start = Math.min(...rs.map((x) => x.result.stages[i].start));
    return stageResult(p, i, ws, start, start + p.durationMs);
  });
  const runStart = Math.min(...rs.map((x) => runStartOf(x.result)));
  const runEnd = Math.max(...rs.map((x) => runEndOf(x.result)));
  // Events: one run start and end; stage starts from the first file; every fault, note and abort of each file, named.
  const events: TimelineEvent[] = [{ t: runStart, type: 'run-start' }];
  for (const e of first.timeline.events) if (e.type === 'stage-start') events.push({ ...e, offeredRate: plans[e.stage]?.rateFrom ?? e.offeredRate });
  rs.forEach((x) => {
    for (const e of x.result.timeline.events) {
      if (e.type === 'run-start' || e.type === 'run-end' || e.type === 'stage-start' || e.type === 'breach' || e.type === 'recovery') continue;
      events.push(e.type === 'abort' ? { ...e, reason: `${label(x.file)}: ${e.reason}` } : e);
    }
  });
  events.push({ t: runEnd, type: 'run-end' });
  events.sort((a, b) => a.t - b.t);
  const timeline: Timeline = { tickMs: first.timeline.tickMs, windows, events };
  const h = first.hypothesis;
  const clauses = (h?.clauses ?? []).map((c) => parseClause(typeof c === 'string' ? c : c.text)).filter((c): c is Clause => typeof c !== 'string');
  const analysis = analyze(timeline, {
    clauses,
    windowMs: h?.windowMs ?? first.timeline.tickMs,
    sustain: h?.sustain ?? 2,
    minSamples: h?.minSamples ?? 20,
    plans,
    stages,
    runStart,
    runEnd,
    expectedPeak: first.meta.expectedPeak,
    required: h?.required,
  });
  const aborted = rs.filter((x) => x.result.outcome.status === 'aborted');
  const failedUndo = rs.flatMap((x) => ((x.result.undoFailures as { fault: string; error: string }[] | undefined) ?? []).map((u) => ({ ...u, fault: `${label(x.file)}: ${u.fault}` })));
  const outcome = decideOutcome(analysis, {
    abortReason: aborted.length ? aborted.map((x) => `${label(x.file)}: ${x.result.outcome.reason}`).join('; ') : undefined,
    undoFailures: failedUndo,
  });
  const agents: AgentSummary[] = rs.map((x, i) => ({
    index: i,
    name: x.file,
    workers: x.result.meta.workers,
    clockOffsetMs: 0,
    roundTripMs: 0,
    sent: perFile[i].sent,
    requests: perFile[i].requests,
    windowsMissing: perFile[i].missing,
    lateRequests: 0,
  }));
  return {
    version: RESULT_VERSION,
    meta: {
      ...first.meta,
      workers: rs.reduce((a, x) => a + x.result.meta.workers, 0),
      connections: rs.reduce((a, x) => a + x.result.meta.connections, 0),
      startedAt: new Date(runStart).toISOString(),
      endedAt: new Date(runEnd).toISOString(),
      durationMs: runEnd - runStart,
      command,
      agents: rs.reduce((a, x) => a + (x.result.meta.agents ?? 1), 0),
    },
    stages,
    timeline,
    outcome,
    ...analysis,
    search: null,
    undoFailures: failedUndo,
    agents,
  };
}
