/**
 * A stage's verdict from its windows' verdicts (what an adaptive profile is
 * handed back): broken when `sustain` failing windows come in a row (a probe
 * shorter than that: one), inconclusive when no window could be judged; a
 * baseline too thin per window is judged over its whole length instead.
 */
import type { Window } from '../timeline.ts';
import type { StagePlan, StageVerdict } from '../profiles/types.ts';
import type { Clause } from './parse.ts';
import { evaluateWindow, type WindowVerdict } from './evaluate.ts';
import { combineWindows, completedCount } from '../metrics/merge.ts';

export function judgeStageWindows(plan: StagePlan, stageWindows: readonly { w: Window; v: WindowVerdict }[], o: { hypothesis: Clause[]; sustain: number; minSamples: number }): StageVerdict {
  const ws = stageWindows.filter((x) => x.v.status !== 'excluded');
  const counted = ws.filter((x) => x.v.status !== 'inconclusive');
  let run = 0;
  let broke = false;
  for (const x of ws) {
    run = x.v.status === 'fail' ? run + 1 : 0;
    if (run >= o.sustain || (x.v.status === 'fail' && plan.kind === 'probe' && ws.length < o.sustain)) broke = true;
  }
  const secs = ws.reduce((a, x) => a + (x.w.end - x.w.start), 0) / 1000;
  let inconclusive = counted.length === 0;
  let openClauses: StageVerdict['openClauses'];
  if (inconclusive && plan.kind === 'baseline' && ws.length > 0) {
    // A low baseline may give too few requests per window; judged over the whole stage
    // instead, it still proves (or disproves) the hypothesis at low load.
    const pooled = combineWindows(ws.map((x) => x.w));
    const v = evaluateWindow(pooled, o.hypothesis, o.minSamples);
    inconclusive = v.status === 'inconclusive';
    broke = v.status === 'fail';
    openClauses = v.clauses.filter((c) => c.status === 'inconclusive').map((c) => ({ clause: c.clause, samples: c.samples }));
  }
  return {
    plan,
    held: !broke,
    inconclusive,
    ...(openClauses ? { openClauses } : {}),
    generatorLimited: ws.some((x) => x.w.generator.limited),
    achievedRate: secs > 0 ? ws.reduce((a, x) => a + completedCount(x.w.overall), 0) / secs : 0,
  };
}
