/**
 * The terminal views: a live line per window while the run goes, and the
 * final report, readable at a glance: the verdict first, then the stage table,
 * the fault table (what each fault did, how fast it hurt and healed, which
 * request names it broke), the breaches by cause, then generator warnings,
 * files and the exit code's meaning. Reporters only read the Result; nothing
 * here reads worker internals.
 */
import type { Result } from '../result.ts';
import type { StageResult, Window } from '../timeline.ts';
import type { WindowVerdict } from '../hypothesis/evaluate.ts';
import type { LiveContext } from '../coordinator.ts';
import { summarize, view } from '../metrics/histogram.ts';
import { ms, pct, rate, int, table, type Paint } from './format.ts';
import type { FaultCorrelation } from '../analysis/correlation.ts';
import { EXIT } from '../errors.ts';
import { parseClause, isLatency, metricName } from '../hypothesis/parse.ts';
import { dominantText, windowPhases } from '../metrics/phases.ts';

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
  else if (v.status === 'inconclusive' && w.agentProblems?.length) parts.push(p.yellow(`? inconclusive: ${w.agentProblems.map((a) => `${a.agent.split(' (')[0]} ${a.problem}`).join(', ')}`));
  else if (v.status === 'inconclusive') parts.push(p.dim('(inconclusive)'));
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
    // With retries, failed attempts show by kind even when every request succeeded in the end.
    const errs = s.errorCount > 0 ? p.red(`${pct(s.errorRate)} (${kinds.join(', ')})`) : kinds.length ? p.yellow(`0 (${kinds.join(', ')})`) : '0';
    const flags = [s.model === 'closed' ? 'closed model' : '', s.generatorLimited ? p.yellow('generator-limited') : '', n4 ? `4xx ${int(n4)}` : '', s.retries ? p.yellow(`retried ${int(s.retries)}`) : ''].filter(Boolean).join(' ');
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
  const bp = r.breakingPoint;
  const peak = r.meta.expectedPeak;
  const x = (v: number) => (peak ? ` (${(v / peak).toFixed(2).replace(/\.?0+$/, '')}× expected peak)` : '');
  if (bp) {
    const br = bp.bracket ? ` (bracket ${rate(bp.bracket.width)} req/s${bp.bracket.relative !== undefined ? `, ${pct(bp.bracket.relative)}` : ''})` : '';
    const lp = bp.lastPassing ? ` Last passing level ${rate(bp.lastPassing.rate)} req/s${br}; crossing ≈ ${rate(bp.crossing)} req/s.` : ' It did not pass at any lower level.';
    return `Hypothesis broke at ${rate(bp.firstFailing.rate)} req/s${x(bp.firstFailing.rate)}: ${breachText(bp.clause, bp.value)}.${lp}`;
  }
  const gl = r.generatorLimit;
  if (gl) return `The generator ran out first, at ${rate(gl.rate)} req/s: ${gl.reason}. The system held${gl.heldTo !== undefined ? ` up to ${rate(gl.heldTo)} req/s` : ''}; no breaking point can be named above that.`;
  const cap = r.capacity;
  if (r.outcome.status === 'aborted') return `Run aborted: ${r.outcome.reason}.`;
  const clauses = r.hypothesis?.clauses ?? [];
  if (clauses.length === 0) return 'No hypothesis given: measured only.';
  if (r.outcome.status === 'inconclusive') return `Inconclusive: ${r.outcome.reason.replace(/^inconclusive: /, '')}.`;
  const underFaults = (r.faults ?? []).filter(brokeIt).length;
  const blamed = [...new Set((r.clauses ?? []).flatMap((c) => c.brokenBy))];
  const faultNote = blamed.length
    ? ` It broke under ${blamed.map((f) => `"${f}"`).join(', ')}, not declared mayBreak: the run fails.`
    : underFaults
      ? ` It broke only under ${underFaults === 1 ? 'a fault' : `${underFaults} faults`} declared mayBreak (see the fault table).`
      : '';
  if (cap?.highestHeld !== undefined && blamed.length) return `Hypothesis held under load up to ${rate(cap.highestHeld)} req/s${x(cap.highestHeld)}, but broke under ${blamed.map((f) => `"${f}"`).join(', ')}, not declared mayBreak: the run fails.`;
  if (cap?.highestHeld !== undefined) return `Hypothesis held at every level up to ${rate(cap.highestHeld)} req/s${x(cap.highestHeld)}.${faultNote}`;
  if (r.outcome.status === 'held') {
    const top = Math.max(0, ...r.stages.filter((s) => s.model === 'open').map((s) => Math.max(s.offeredRate, s.rateTo ?? 0)));
    return `Hypothesis held under load${top > 0 ? ` up to ${rate(top)} req/s${x(top)}` : ''}.${faultNote}`;
  }
  return `Hypothesis: ${r.outcome.reason}.`;
}

const EXIT_MEANING: Record<number, string> = {
  [EXIT.held]: 'the hypothesis held up to the required level',
  [EXIT.broke]: 'the hypothesis broke (below the required level, or under a fault not declared mayBreak)',
  [EXIT.usage]: 'bad usage or invalid scenario',
  [EXIT.aborted]: 'aborted',
  [EXIT.internal]: 'internal error',
  [EXIT.inconclusive]: 'inconclusive: too few requests were due, or the generator or an agent (not the system) was the limit, where the verdict was needed',
};

/** One line per clause: its outcome for the run and why (the same verdicts JUnit and HTML show). */
export function clauseLines(r: Result, p: Paint): string[] {
  const cv = r.clauses ?? [];
  if (!cv.length) return [];
  const mark = { pass: p.green('✓ pass'), fail: p.red.bold('✗ fail'), inconclusive: p.yellow('? inconclusive') } as const;
  return cv.map((v) => `  ${mark[v.outcome]}  ${v.clause} — ${v.reason}`);
}

export function renderReport(r: Result, p: Paint, files: string[] = []): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(p.bold(`faultline ${m.faultline} — ${m.scenario ?? 'run'} → ${m.target}`));
  out.push(p.dim(`${m.model === 'closed' ? 'CLOSED model (fixed concurrency: latency is service time, not corrected for coordinated omission)' : 'open model (latency from intended send time, coordinated-omission corrected)'} · ${m.agents ? `${m.agents} agent${m.agents > 1 ? 's' : ''} × ` : ''}${m.workers} worker${m.workers > 1 ? 's' : ''} · ${m.connections} connections${m.retries ? ` · retries ${m.retries} (idempotent, connection failures)` : ''} · ${m.node} · ${((m.durationMs ?? 0) / 1000).toFixed(1)} s`));
  out.push('');
  const sentence = verdictSentence(r);
  out.push(r.outcome.exitCode === EXIT.held ? p.green.bold(sentence) : r.outcome.exitCode === EXIT.broke ? p.red.bold(sentence) : p.yellow.bold(sentence));
  out.push(...clauseLines(r, p));
  const cap = r.capacity;
  if (cap?.highestHeld !== undefined && cap.headroom !== undefined) out.push(`Capacity: holds to ${rate(cap.highestHeld)} req/s, ${cap.headroom.toFixed(2)}× expected peak.`);
  if (cap?.uslNote) out.push(p.dim(`Scalability: ${cap.uslNote}.`));
  const faults = r.faults ?? [];
  if (faults.length) out.push(faultSentence(faults, p));
  out.push('');
  out.push(stageTable(r.stages, p));
  if (faults.length) {
    out.push('');
    out.push(p.bold('Faults'));
    out.push(faultTable(faults, p, allowedToBreak(r)));
    out.push(...effectLines(faults, p));
  }
  if (r.underFaults) {
    const b = r.underFaults.breakingPoint;
    out.push(
      `Under the background fault schedule (${r.underFaults.series.join(', ')}): ${
        b ? `broke at ${rate(b.firstFailing.rate)} req/s${b.lastPassing ? ` (held at ${rate(b.lastPassing.rate)} req/s)` : ''}` : 'did not break'
      }${r.breakingPoint ? `; clean: ${rate(r.breakingPoint.firstFailing.rate)} req/s` : ''}.`,
    );
  }
  const deps = dependencyLines(r, p);
  if (deps.length) {
    out.push('');
    out.push(...deps);
  }
  const breaches = breachLines(r, p);
  if (breaches.length) {
    out.push('');
    out.push(...breaches);
  }
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

/** The fault itself broke the hypothesis (a sustained breach attributed to it). */
export const brokeIt = (f: FaultCorrelation) => f.impact?.sustained === true;

/** "1 of 2 faults broke the hypothesis: slow payment." */
export function faultSentence(faults: readonly FaultCorrelation[], p: Paint): string {
  const broke = faults.filter(brokeIt);
  if (!broke.length) {
    if (faults.every((f) => f.held)) return p.green(`Faults: the hypothesis held through ${faults.length === 1 ? 'the fault' : `all ${faults.length} faults`}.`);
    return `Faults: none broke the hypothesis; it was already broken by load during ${faults.filter((f) => !f.held).map((f) => f.fault).join(', ')}.`;
  }
  const names = broke.map((f) => `${f.fault}${f.recovery === 'not-recovered' ? ' (did not recover within the run)' : ''}`).join(', ');
  return p.red(`Faults: ${broke.length} of ${faults.length} broke the hypothesis: ${names}.`);
}

const secs = (v: number | undefined) => (v === undefined ? '—' : `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)}s`);
const fmtClauseValue = (clause: string, v: number) => (/(^|\.)(errors?|error_rate|achieved)\s*[<>]/.test(clause) ? pct(v) : ms(v));

/** What a fault did to the hypothesis, in one cell. */
export function impactText(f: FaultCorrelation): string {
  if (f.impact) {
    const i = f.impact;
    const was = i.before !== undefined ? `${fmtClauseValue(i.clause, i.before)} → ` : '';
    return `${breachText(i.clause, i.worst).replace(/^(\S+ )/, `$1${was}`)}${i.sustained ? '' : ' (blip)'}`;
  }
  const b = f.metrics.before;
  const d = f.metrics.during;
  const change = b && d ? `p99 ${ms(b.p99)} → ${ms(d.p99)}` : '';
  if (f.preexisting.length) return `none of its own: already broken by load${change ? ` (${change})` : ''}`;
  return change ? `none (${change})` : 'none';
}

export function recoveryText(f: FaultCorrelation): string {
  let t: string;
  if (f.recovery === 'not-needed') t = '—';
  else if (f.recovery === 'not-recovered') t = 'did not recover within the run';
  else t = secs(f.timeToRecoveryMs);
  const ready = f.restart?.restartToReadyMs?.filter((v): v is number => typeof v === 'number');
  if (ready?.length) t += ` (restart→ready ${ready.map((v) => secs(v)).join(', ')})`;
  return t;
}

export function blastText(f: FaultCorrelation, p: Paint): string {
  const b = f.blastRadius;
  const parts = [...b.affected.map((n) => p.red(`${n} ✗`)), ...b.unaffected.map((n) => p.green(`${n} ✓`)), ...b.unknown.map((n) => p.dim(`${n} ?`))];
  return parts.join(' ');
}

/** Faults declared `mayBreak` that did break a clause. */
export function allowedToBreak(r: Result): Set<string> {
  return new Set((r.clauses ?? []).flatMap((c) => c.brokenByAllowed ?? []));
}

/** "10.02s–14.10s", and what was asked for when the effect came or went later than that (a fault is timed by its effect). */
export function whenText(f: FaultCorrelation): string {
  const actual = `${secs(f.startElapsedMs)}–${f.activeAtEnd ? 'end' : secs(f.endElapsedMs)}`;
  const rs = f.requestedStartElapsedMs;
  const re = f.requestedEndElapsedMs;
  const off = (a: number | undefined, b: number) => a !== undefined && Math.abs(b - a) >= 50;
  if (!off(rs, f.startElapsedMs) && (f.activeAtEnd || !off(re, f.endElapsedMs))) return actual;
  return `${actual} (asked ${secs(rs ?? f.startElapsedMs)}–${f.activeAtEnd || re === undefined ? (f.activeAtEnd ? 'end' : secs(f.endElapsedMs)) : secs(re)})`;
}

export function faultTable(faults: readonly FaultCorrelation[], p: Paint, allowed: ReadonlySet<string> = new Set()): string {
  const head = ['fault', 'when', 'load at start', 'impact', 'time to impact', 'time to recovery', 'held?', 'blast radius'];
  const rows = faults.map((f) => [
    `${f.fault} (${f.kind}${f.target ? ` → ${f.target}` : ''})`,
    whenText(f),
    `${rate(f.offeredRate)} req/s`,
    f.held ? impactText(f) : p.red(impactText(f)),
    secs(f.timeToImpactMs),
    f.recovery === 'not-recovered' ? p.red(recoveryText(f)) : recoveryText(f),
    f.held ? p.green('yes') : brokeIt(f) ? (allowed.has(f.fault) ? p.yellow('no (mayBreak)') : p.red.bold('NO')) : p.yellow('no (load)'),
    blastText(f, p),
  ]);
  return table(head, rows, [false, false, true, false, true, false, false, false], p);
}

/** Amplification per dependency: what the system sent it per request it received, around each fault. */
export function dependencyLines(r: Result, p: Paint): string[] {
  const deps = r.dependencies ?? [];
  if (!deps.length) return [];
  const x = (v: number | null) => (v === null ? '—' : `${v > 0 && v < 0.1 ? v.toPrecision(2) : v.toFixed(2)}×`);
  const out = [p.bold('What the dependencies saw (amplification: calls to the dependency per request received)')];
  for (const d of deps) {
    out.push(`  ${d.dependency}: ${x(d.overall.ratio)} overall (${d.overall.dependency.toLocaleString('en-US')} ${d.unit} for ${d.overall.received.toLocaleString('en-US')} requests)`);
    for (const f of d.byFault) {
      const hot = (f.during.ratio ?? 0) > 1.5 * (f.before.ratio ?? 1) || (f.after.ratio ?? 0) > 1.5 * (f.before.ratio ?? 1);
      const line = `    ${f.fault}: before ${x(f.before.ratio)} · during ${x(f.during.ratio)} · after ${x(f.after.ratio)}${f.peak ? ` · peak ${x(f.peak.ratio)}` : ''}`;
      out.push(hot ? p.magenta(line) : line);
    }
  }
  return out;
}

/** What each fault measured of its own effect, beside its setting; "no effect" flagged. */
export function effectLines(faults: readonly FaultCorrelation[], p: Paint): string[] {
  const with_ = faults.filter((f) => f.effect);
  if (!with_.length) return [];
  return [
    p.dim('Measured effect:'),
    ...with_.map((f) => `  ${f.fault}: ${f.effect!.summary}${f.effect!.noEffect ? ` ${p.yellow.bold('— NO EFFECT: this fault proved nothing')}` : ''}`),
  ];
}

/** Sustained breaches with their cause, then blips apart. */
export function breachLines(r: Result, p: Paint): string[] {
  const all = r.breaches ?? [];
  if (!all.length) return [];
  const t0 = r.timeline.events.find((e) => e.type === 'run-start')?.t ?? r.timeline.windows[0]?.start ?? 0;
  const out: string[] = [];
  const sustained = all.filter((b) => b.sustained);
  const blips = all.filter((b) => !b.sustained);
  const cause = (b: (typeof all)[number]) => (b.attribution === 'load' ? 'load' : `${b.attribution === 'both' ? 'fault + load' : 'fault'}: ${b.faults.join(', ')}`);
  if (sustained.length) {
    out.push(p.bold('Breaches'));
    out.push(
      table(
        ['clause', 'began', 'load', 'windows', 'worst', 'time went to', 'cause'],
        sustained.map((b) => [
          b.clause,
          `${secs(b.start - t0)}${b.ongoing ? ' (ongoing at end)' : ''}`,
          `${rate(b.offeredRate)} req/s`,
          String(b.windows),
          breachText(b.clause, b.worstValue),
          dominantText(windowPhases(r.timeline, b.startWindow, b.endWindow, b.scope)) || '—',
          b.attribution === 'load' ? p.red(cause(b)) : p.magenta(cause(b)),
        ]),
        [false, false, true, true, false, false, false],
        p,
      ),
    );
  }
  if (blips.length) {
    out.push(p.dim(`Blips (shorter than sustain, not breaks): ${blips.map((b) => `${b.clause} at ${secs(b.start - t0)} (${breachText(b.clause, b.worstValue)}; ${cause(b)})`).join('; ')}`));
  }
  return out;
}
