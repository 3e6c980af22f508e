/**
 * A regression gate between two runs of the same scenario: the capacity
 * (breaking point) change, p99 and error rate at each load level both runs
 * had, and each fault's time to recovery. Pure: two results in, a table and a
 * list of regressions out.
 */
import type { Result } from '../result.ts';
import type { StageResult } from '../timeline.ts';
import type { FaultCorrelation } from '../analysis/correlation.ts';
import { upgradeResult } from '../analysis/upgrade.ts';
import { ms, pct, rate, table, type Paint } from './format.ts';

export interface CompareThresholds {
  /** Largest allowed drop of capacity, a fraction (default 0.10). */
  maxCapacityDrop: number;
  /** Largest allowed rise of p99 at a common level, a fraction (default 0.20)... */
  maxP99Rise: number;
  /** ...counted only when it is also at least this many ms (loopback p99s of 1–2 ms jitter by more than 20%). */
  minP99DeltaMs: number;
  /** Largest allowed rise of the error rate at a common level, in percentage points as a fraction (default 0.01). */
  maxErrorRise: number;
  /** Largest allowed rise of a fault's time to recovery, a fraction (default 0.5), beyond one window of resolution. */
  maxRecoveryRise: number;
}

export const DEFAULT_THRESHOLDS: CompareThresholds = { maxCapacityDrop: 0.1, maxP99Rise: 0.2, minP99DeltaMs: 1, maxErrorRise: 0.01, maxRecoveryRise: 0.5 };

export type RowVerdict = 'ok' | 'regression' | 'improved' | 'n/a';

export interface CompareRow {
  what: string;
  base: string;
  new: string;
  change: string;
  verdict: RowVerdict;
  note?: string;
}

export interface Comparison {
  rows: CompareRow[];
  regressions: string[];
  warnings: string[];
}

/** Why two results cannot be compared, or undefined when they can. */
export function mismatch(a: Result, b: Result): string | undefined {
  if (a.version !== b.version) return `result versions differ (${a.version} vs ${b.version})`;
  if ((a.meta.scenario ?? '') !== (b.meta.scenario ?? '')) return `not runs of the same scenario (${JSON.stringify(a.meta.scenario ?? '')} vs ${JSON.stringify(b.meta.scenario ?? '')})`;
  if (a.meta.model !== b.meta.model) return `load models differ (${a.meta.model} vs ${b.meta.model})`;
  return undefined;
}

interface Capacity {
  value: number;
  /** Held to at least `value`: no breaking point was reached. */
  lowerBound: boolean;
  text: string;
}

function capacityOf(r: Result): Capacity | undefined {
  const bp = r.breakingPoint;
  if (bp) return { value: bp.crossing, lowerBound: false, text: `breaks at ${rate(bp.firstFailing.rate)} (≈${rate(bp.crossing)})` };
  const held = r.capacity?.highestHeld ?? r.generatorLimit?.heldTo;
  if (held !== undefined) return { value: held, lowerBound: true, text: `holds to ≥ ${rate(held)}` };
  return undefined;
}

const change = (a: number, b: number) => (a === 0 ? (b === 0 ? '0%' : '+∞') : `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)}%`);

/** A stage's load level, as a key both runs can share. */
function levelKey(s: StageResult): string {
  if (s.model === 'closed') return `closed ${s.concurrency}`;
  if (s.rateFrom !== undefined) return `ramp ${Math.round(s.rateFrom)}→${Math.round(s.rateTo!)}`;
  return `${Math.round(s.offeredRate)}`;
}

function levelText(s: StageResult): string {
  if (s.model === 'closed') return `${s.concurrency} concurrent`;
  if (s.rateFrom !== undefined) return `${rate(s.rateFrom)}→${rate(s.rateTo!)} req/s`;
  return `${rate(s.offeredRate)} req/s`;
}

export function compareResults(baseIn: Result, nextIn: Result, th: CompareThresholds = DEFAULT_THRESHOLDS): Comparison {
  // Both read as the current version: the analysis each run stored (an old file is analysed once on load).
  const base = upgradeResult(baseIn);
  const next = upgradeResult(nextIn);
  const rows: CompareRow[] = [];
  const warnings: string[] = [];
  const clausesOf = (r: Result) => (r.hypothesis?.clauses ?? []).map((c) => c.text).join(', ');
  if (clausesOf(base) !== clausesOf(next)) warnings.push(`the hypotheses differ ("${clausesOf(base)}" vs "${clausesOf(next)}"): capacities are measured against different promises`);

  // Each clause's verdict, as each run's own report showed it.
  const nextClauses = new Map((next.clauses ?? []).map((c) => [c.clause, c]));
  for (const ca of base.clauses ?? []) {
    const cb = nextClauses.get(ca.clause);
    if (!cb) continue;
    const rank = { pass: 2, inconclusive: 1, fail: 0 } as const;
    const v: RowVerdict = rank[cb.outcome] < rank[ca.outcome] ? (cb.outcome === 'fail' ? 'regression' : 'n/a') : rank[cb.outcome] > rank[ca.outcome] ? 'improved' : 'ok';
    rows.push({ what: `clause ${ca.clause}`, base: ca.outcome, new: cb.outcome, change: ca.outcome === cb.outcome ? '—' : `${ca.outcome} → ${cb.outcome}`, verdict: v, note: cb.outcome !== 'pass' ? cb.reason : undefined });
  }

  // Capacity.
  const ca = capacityOf(base);
  const cb = capacityOf(next);
  if (ca && cb) {
    const drop = (ca.value - cb.value) / ca.value;
    let verdict: RowVerdict = 'ok';
    let note: string | undefined;
    if (ca.lowerBound && cb.lowerBound) verdict = drop > th.maxCapacityDrop ? 'n/a' : 'ok';
    else if (ca.lowerBound && !cb.lowerBound) verdict = drop > th.maxCapacityDrop ? 'regression' : 'ok';
    else if (!ca.lowerBound && cb.lowerBound) verdict = cb.value >= ca.value ? 'improved' : 'n/a';
    else verdict = drop > th.maxCapacityDrop ? 'regression' : drop < -th.maxCapacityDrop ? 'improved' : 'ok';
    if (verdict === 'n/a') note = 'the new run did not go as far: it shows no breaking point to compare';
    rows.push({ what: 'capacity (req/s)', base: ca.text, new: cb.text, change: change(ca.value, cb.value), verdict, note });
  } else rows.push({ what: 'capacity (req/s)', base: ca?.text ?? '—', new: cb?.text ?? '—', change: '—', verdict: 'n/a' });

  // p99 and error rate at each common level (first stage of each level in each run).
  const byLevel = (r: Result) => {
    const m = new Map<string, StageResult>();
    for (const s of r.stages) if (!m.has(levelKey(s)) && s.requests > 0) m.set(levelKey(s), s);
    return m;
  };
  const la = byLevel(base);
  const lb = byLevel(next);
  let common = 0;
  for (const [k, sa] of la) {
    const sb = lb.get(k);
    if (!sb) continue;
    common++;
    const gen = sa.generatorLimited || sb.generatorLimited;
    const rise = sa.latency.p99 > 0 ? (sb.latency.p99 - sa.latency.p99) / sa.latency.p99 : 0;
    const delta = sb.latency.p99 - sa.latency.p99;
    let v: RowVerdict = 'ok';
    if (gen) v = 'n/a';
    else if (rise > th.maxP99Rise && delta >= th.minP99DeltaMs) v = 'regression';
    else if (rise < -th.maxP99Rise && -delta >= th.minP99DeltaMs) v = 'improved';
    rows.push({ what: `p99 at ${levelText(sa)}`, base: ms(sa.latency.p99), new: ms(sb.latency.p99), change: change(sa.latency.p99, sb.latency.p99), verdict: v, note: gen ? 'generator-limited' : undefined });
    const er = sb.errorRate - sa.errorRate;
    let ve: RowVerdict = 'ok';
    if (gen) ve = 'n/a';
    else if (er > th.maxErrorRise) ve = 'regression';
    else if (er < -th.maxErrorRise) ve = 'improved';
    rows.push({ what: `errors at ${levelText(sa)}`, base: pct(sa.errorRate), new: pct(sb.errorRate), change: `${er >= 0 ? '+' : ''}${(er * 100).toFixed(2)} pp`, verdict: ve });
  }
  if (!common) warnings.push('the runs share no load level: p99 and error rates cannot be compared level by level');

  // Faults, matched by name (and order, for repeated names).
  const fa = base.faults ?? [];
  const fb = next.faults ?? [];
  const key = (list: FaultCorrelation[]) => {
    const seen = new Map<string, number>();
    return list.map((f) => {
      const n = (seen.get(f.fault) ?? 0) + 1;
      seen.set(f.fault, n);
      return n > 1 ? `${f.fault} #${n}` : f.fault;
    });
  };
  const kb = new Map(key(fb).map((k, i) => [k, fb[i]]));
  const ttrText = (f: FaultCorrelation) => (f.recovery === 'not-needed' ? 'held' : f.recovery === 'not-recovered' ? 'did not recover' : `${((f.timeToRecoveryMs ?? 0) / 1000).toFixed(2)}s`);
  key(fa).forEach((k, i) => {
    const a = fa[i];
    const b = kb.get(k);
    if (!b) {
      warnings.push(`fault "${k}" is only in the base run`);
      return;
    }
    let v: RowVerdict = 'ok';
    let note: string | undefined;
    if (a.held && !b.held) {
      v = 'regression';
      note = 'held in the base run, broke in the new one';
    } else if (!a.held && b.held) v = 'improved';
    if (a.recovery !== 'not-recovered' && b.recovery === 'not-recovered') {
      v = 'regression';
      note = 'did not recover within the new run';
    } else if (a.recovery === 'recovered' && b.recovery === 'recovered') {
      const ta = a.timeToRecoveryMs ?? 0;
      const tb = b.timeToRecoveryMs ?? 0;
      const slack = Math.max(a.resolutionMs, b.resolutionMs);
      if (tb > ta * (1 + th.maxRecoveryRise) + slack) v = 'regression';
      else if (tb + slack < ta / (1 + th.maxRecoveryRise) && v !== 'regression') v = 'improved';
    } else if (a.recovery === 'not-recovered' && b.recovery === 'recovered' && v !== 'regression') v = 'improved';
    const ta = a.timeToRecoveryMs;
    const tb = b.timeToRecoveryMs;
    rows.push({ what: `recovery from ${k}`, base: ttrText(a), new: ttrText(b), change: ta !== undefined && tb !== undefined ? `${tb >= ta ? '+' : ''}${((tb - ta) / 1000).toFixed(2)}s` : '—', verdict: v, note });
  });
  for (const k of kb.keys()) if (!key(fa).includes(k)) warnings.push(`fault "${k}" is only in the new run`);

  const regressions = rows.filter((r) => r.verdict === 'regression').map((r) => `${r.what}: ${r.base} → ${r.new}${r.note ? ` (${r.note})` : ''}`);
  return { rows, regressions, warnings };
}

export function renderComparison(c: Comparison, p: Paint, names: [string, string]): string {
  const colour = (v: RowVerdict, s: string) => (v === 'regression' ? p.red.bold(s) : v === 'improved' ? p.green(s) : v === 'n/a' ? p.dim(s) : s);
  const out = [
    table(
      ['', `base (${names[0]})`, `new (${names[1]})`, 'change', 'verdict'],
      c.rows.map((r) => [r.what, r.base, r.new, r.change, colour(r.verdict, r.verdict === 'regression' ? `REGRESSION${r.note ? ` — ${r.note}` : ''}` : r.note ? `${r.verdict} — ${r.note}` : r.verdict)]),
      [false, true, true, true, false],
      p,
    ),
  ];
  for (const w of c.warnings) out.push(p.yellow(`⚠ ${w}`));
  out.push('');
  out.push(c.regressions.length ? p.red.bold(`${c.regressions.length} regression${c.regressions.length > 1 ? 's' : ''}: ${c.regressions.join('; ')}`) : p.green.bold('No regression.'));
  return out.join('\n');
}
