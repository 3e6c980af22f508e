/**
 * The terminal views: a live line per window while the run goes, and the
 * final report, readable at a glance: the verdict first, then the stage table,
 * then generator warnings, files and the exit code's meaning. Reporters only
 * read the Result; nothing here reads worker internals.
 */
import type { Result, StageResult, Window } from '../result.ts';
import type { WindowVerdict } from '../hypothesis/evaluate.ts';
import type { LiveContext } from '../coordinator.ts';
import { summarize, view } from '../metrics/histogram.ts';
import { ms, pct, rate, int, table, type Paint } from './format.ts';
import type { BreakingPoint } from '../analysis/breaches.ts';
import type { Capacity } from '../analysis/capacity.ts';
import { EXIT } from '../errors.ts';
import { parseClause, isLatency, metricName } from '../hypothesis/parse.ts';

const NEGATE = { '<': '≥', '<=': '>', '>': '≤', '>=': '<' } as const;

/** "p99 412ms ≥ 250ms": what was measured against the clause it broke. */
export function breachText(clause: string, value: number): string {
  const c = parseClause(clause);
  if (typeof c === 'string') return `${clause} (measured ${value})`;
  const f = (v: number) => (isLatency(c.metric) ? ms(v) : pct(v));
  return `${c.scope ? c.scope + '.' : ''}${metricName(c.metric)} ${f(value)} ${NEGATE[c.op]} ${f(c.threshold)}`;
}

export function liveLine(w: Window, v: WindowVerdict, ctx: LiveContext, p: Paint): string {
  const l = summarize(view(w.overall.latency));
  const err = w.overall.requests > 0 ? w.overall.errors / w.overall.requests : 0;
  const t = `${(ctx.elapsedMs / 1000).toFixed(1).padStart(6)}s`;
  const stage = ctx.stage ? ctx.stage.label : `stage ${w.stage}`;
  const parts = [
    p.dim(t),
    stage.padEnd(24),
    `offered ${rate(w.offeredRate).padStart(7)}/s`,
    `achieved ${rate(w.achievedRate).padStart(7)}/s`,
    `p50 ${ms(l.p50).padStart(7)}`,
    `p99 ${ms(l.p99).padStart(7)}`,
    `err ${(err > 0 ? p.red(pct(err)) : pct(err)).padStart(6)}`,
  ];
  if (v.status === 'fail') parts.push(p.red.bold('✗ BREACH ' + v.clauses.filter((c) => c.status === 'fail').map((c) => c.clause).join(', ')));
  else if (v.status === 'insufficient') parts.push(p.dim('(too few samples)'));
  if (ctx.activeFaults.length) parts.push(p.magenta(`⚡ ${ctx.activeFaults.join(', ')}`));
  if (w.generator.limited) parts.push(p.yellow('⚠ generator-limited'));
  return parts.join('  ');
}

export function stageTable(stages: StageResult[], p: Paint): string {
  const head = ['#', 'stage', 'offered/s', 'achieved/s', 'requests', 'errors', 'p50', 'p90', 'p99', 'p99.9', 'max', 'svc p99', ''];
  const rows = stages.map((s) => {
    const kinds = Object.entries(s.errors)
      .filter(([k, n]) => n && k !== 'http_4xx')
      .map(([k, n]) => `${k} ${int(n!)}`);
    const n4 = s.errors.http_4xx;
    const errs = s.errorCount > 0 ? p.red(`${pct(s.errorRate)} (${kinds.join(', ')})`) : '0';
    const flags = [s.model === 'closed' ? 'closed model' : '', s.generatorLimited ? p.yellow('generator-limited') : '', n4 ? `4xx ${int(n4)}` : ''].filter(Boolean).join(' ');
    return [
      String(s.index),
      s.label,
      s.model === 'open' ? (s.rateFrom !== undefined ? `${rate(s.rateFrom)}→${rate(s.rateTo!)}` : rate(s.offeredRate)) : `(${s.concurrency} conc.)`,
      rate(s.achievedRate),
      int(s.requests),
      errs,
      ms(s.latency.p50),
      ms(s.latency.p90),
      ms(s.latency.p99),
      ms(s.latency.p999),
      ms(s.latency.max),
      ms(s.serviceTime.p99),
      flags,
    ];
  });
  return table(head, rows, [true, false, true, true, true, false, true, true, true, true, true, true, false], p);
}

export function verdictSentence(r: Result): string {
  const bp = r.breakingPoint as BreakingPoint | null | undefined;
  const peak = r.meta.expectedPeak;
  const x = (v: number) => (peak ? ` (${(v / peak).toFixed(2).replace(/\.?0+$/, '')}× expected peak)` : '');
  const fmtV = (clause: string, v: number) => (/errors|achieved/.test(clause) ? pct(v) : ms(v));
  if (bp) {
    const lp = bp.lastPassing ? ` Last passing level ${rate(bp.lastPassing.rate)} req/s; crossing ≈ ${rate(bp.crossing)} req/s.` : ' It did not pass at any lower level.';
    return `Hypothesis broke at ${rate(bp.firstFailing.rate)} req/s${x(bp.firstFailing.rate)}: ${breachText(bp.clause, bp.value)}.${lp}`;
  }
  const gl = r.generatorLimit as { rate: number; heldTo?: number; reason: string } | null | undefined;
  if (gl) return `The generator ran out first, at ${rate(gl.rate)} req/s: ${gl.reason}. The system held${gl.heldTo !== undefined ? ` up to ${rate(gl.heldTo)} req/s` : ''}; no breaking point can be named above that.`;
  const cap = r.capacity as Capacity | undefined;
  if (r.outcome.status === 'aborted') return `Run aborted: ${r.outcome.reason}.`;
  const clauses = (r.hypothesis as { clauses?: string[] } | undefined)?.clauses ?? [];
  if (clauses.length === 0) return 'No hypothesis given: measured only.';
  if (cap?.highestHeld !== undefined) return `Hypothesis held at every level up to ${rate(cap.highestHeld)} req/s${x(cap.highestHeld)}.`;
  return `Hypothesis: ${r.outcome.reason}.`;
}

const EXIT_MEANING: Record<number, string> = {
  [EXIT.held]: 'the hypothesis held up to the required level',
  [EXIT.broke]: 'the hypothesis broke below the required level',
  [EXIT.usage]: 'bad usage or invalid scenario',
  [EXIT.aborted]: 'aborted',
  [EXIT.internal]: 'internal error',
};

export function renderReport(r: Result, p: Paint, files: string[] = []): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(p.bold(`faultline ${m.faultline} — ${m.scenario ?? 'run'} → ${m.target}`));
  out.push(p.dim(`${m.model === 'closed' ? 'CLOSED model (fixed concurrency: latency is service time, not corrected for coordinated omission)' : 'open model (latency from intended send time, coordinated-omission corrected)'} · ${m.workers} worker${m.workers > 1 ? 's' : ''} · ${m.connections} connections · ${m.node} · ${((m.durationMs ?? 0) / 1000).toFixed(1)} s`));
  out.push('');
  const sentence = verdictSentence(r);
  out.push(r.outcome.exitCode === EXIT.held ? p.green.bold(sentence) : r.outcome.exitCode === EXIT.broke ? p.red.bold(sentence) : p.yellow.bold(sentence));
  const cap = r.capacity as Capacity | undefined;
  if (cap?.highestHeld !== undefined && cap.headroom !== undefined) out.push(`Capacity: holds to ${rate(cap.highestHeld)} req/s, ${cap.headroom.toFixed(2)}× expected peak.`);
  if (cap?.uslNote) out.push(p.dim(`Scalability: ${cap.uslNote}.`));
  out.push('');
  out.push(stageTable(r.stages, p));
  const warnings = r.stages.filter((s) => s.generatorLimited || s.generatorReason);
  if (warnings.length) {
    out.push('');
    for (const s of warnings) out.push(p.yellow(`⚠ stage ${s.index} (${s.label}): ${s.generatorReason}`));
  }
  const examples = new Map<string, string>();
  for (const s of r.stages) for (const [k, v] of Object.entries(s.examples ?? {})) if (v && !examples.has(k)) examples.set(k, v);
  if (examples.size) {
    out.push('');
    out.push(p.dim('First error of each kind:'));
    for (const [k, v] of examples) out.push(p.dim(`  ${k}: ${v}`));
  }
  out.push('');
  for (const f of files) out.push(`wrote ${f}`);
  out.push(`exit ${r.outcome.exitCode}: ${EXIT_MEANING[r.outcome.exitCode] ?? ''} — ${r.outcome.reason}`);
  return out.join('\n');
}
