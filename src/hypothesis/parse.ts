/**
 * Hypothesis and stop-condition clauses, in the words users know from k6 and
 * SLOs: `p99 < 250ms`, `p99.9 < 1s`, `p(95)<200`, `mean`, `max`, `min`,
 * `errors < 1%`, `achieved > 95%`, each optionally scoped to a request name
 * (`checkout.p99 < 300ms`); stop conditions add `for 5s`.
 */
import { parseDuration, parsePercent } from '../config/units.ts';

export type Metric =
  | { type: 'percentile'; p: number }
  | { type: 'mean' }
  | { type: 'max' }
  | { type: 'min' }
  | { type: 'errors' }
  | { type: 'achieved' }
  /** A probe (scenario `probes`): `ok` is 1 when every poll in the window passed, else 0; `latency` the slowest poll, ms. */
  | { type: 'probe'; probe: string; check: 'ok' | 'latency' };

export type Op = '<' | '<=' | '>' | '>=';

export interface Clause {
  /** As the user wrote it, normalised spacing. */
  text: string;
  /** Request name it is scoped to; undefined: all requests. */
  scope?: string;
  metric: Metric;
  op: Op;
  /** ms for latency metrics, a fraction for errors and achieved. */
  threshold: number;
  /** Stop conditions: how long it must hold before it trips, ms. */
  forMs?: number;
}

const CLAUSE = /^\s*(?:([A-Za-z0-9_\-/:.]+?)\.)?(p\(\s*\d+(?:\.\d+)?\s*\)|p\d+(?:\.\d+)?|mean|avg|max|min|errors?|error_rate|achieved)\s*(<=|>=|<|>)\s*(.+?)(?:\s+for\s+(\S+))?\s*$/i;

export const isLatency = (m: Metric) => m.type !== 'errors' && m.type !== 'achieved' && !(m.type === 'probe' && m.check === 'ok');

export function metricName(m: Metric): string {
  if (m.type === 'percentile') return `p${m.p}`;
  if (m.type === 'probe') return m.check === 'ok' ? `probe ${m.probe}` : `probe ${m.probe} latency`;
  return m.type;
}

// `probe health`, `probe health passes`, `probe alarm fails for 10s`, `probe health latency < 200ms`.
const PROBE = /^\s*probe\s+([A-Za-z0-9_\-.]+)(?:\s+(passes|fails|latency\s*(<=|>=|<|>)\s*(\S+)))?(?:\s+for\s+(\S+))?\s*$/i;

function parseProbeClause(raw: string, m: RegExpExecArray, allowFor: boolean): Clause | string {
  const [, probe, what, op, valueRaw, forRaw] = m;
  let forMs: number | undefined;
  if (forRaw !== undefined) {
    if (!allowFor) return `${JSON.stringify(raw)}: "for" belongs to stop conditions, not hypothesis clauses`;
    forMs = parseDuration(forRaw);
    if (forMs === undefined) return `${JSON.stringify(raw)}: expected a duration like "5s" after "for"`;
  }
  const w = (what ?? 'passes').toLowerCase();
  const tail = forRaw ? ` for ${forRaw}` : '';
  if (w.startsWith('latency')) {
    const threshold = parseDuration(/^\d+(\.\d+)?$/.test(valueRaw!) ? Number(valueRaw) : valueRaw!);
    if (threshold === undefined) return `${JSON.stringify(raw)}: expected a duration like "200ms" after ${op}`;
    return { text: `probe ${probe} latency ${op} ${valueRaw}${tail}`, metric: { type: 'probe', probe: probe!, check: 'latency' }, op: op as Op, threshold, forMs };
  }
  // ok is 1 or 0: "passes" holds at 1, "fails" is met below it.
  if (w === 'fails' && !allowFor) return `${JSON.stringify(raw)}: a hypothesis says what healthy is: "probe ${probe}" (it passes), not "fails"`;
  return { text: `probe ${probe}${w === 'fails' ? ' fails' : ''}${tail}`, metric: { type: 'probe', probe: probe!, check: 'ok' }, op: w === 'fails' ? '<' : '>=', threshold: 1, forMs };
}

/** Parses one clause; returns an error message instead when it cannot. */
export function parseClause(raw: string, opts: { allowFor?: boolean } = {}): Clause | string {
  const pm = PROBE.exec(raw);
  if (pm) return parseProbeClause(raw, pm, opts.allowFor === true);
  const m = CLAUSE.exec(raw);
  if (!m) return `cannot parse ${JSON.stringify(raw)}: expected a clause like "p99 < 250ms", "errors < 1%", "checkout.p99 < 300ms" or "probe health"`;
  const [, scope, metricRaw, op, valueRaw, forRaw] = m;
  const ml = metricRaw.toLowerCase().replace(/\s/g, '');
  let metric: Metric;
  if (ml.startsWith('p')) {
    const digits = ml.replace(/^p\(?/, '').replace(/\)$/, '');
    // "p999" means 99.9 and "p9999" 99.99, as in percentile column names.
    const pct = !ml.startsWith('p(') && /^99\d+$/.test(digits) ? Number(`99.${digits.slice(2)}`) : Number(digits);
    if (!(pct > 0 && pct <= 100)) return `${JSON.stringify(raw)}: percentile must be in (0, 100]`;
    metric = { type: 'percentile', p: pct };
  } else if (ml === 'mean' || ml === 'avg') metric = { type: 'mean' };
  else if (ml === 'max') metric = { type: 'max' };
  else if (ml === 'min') metric = { type: 'min' };
  else if (ml === 'achieved') metric = { type: 'achieved' };
  else metric = { type: 'errors' };
  let threshold: number | undefined;
  if (isLatency(metric)) {
    // A bare number is milliseconds, as in k6 thresholds.
    threshold = parseDuration(/^\d+(\.\d+)?$/.test(valueRaw.trim()) ? Number(valueRaw) : valueRaw);
    if (threshold === undefined) return `${JSON.stringify(raw)}: expected a duration like "250ms" after ${op}`;
  } else {
    threshold = parsePercent(valueRaw.trim());
    if (threshold === undefined || threshold > 1) return `${JSON.stringify(raw)}: expected a percentage like "1%" after ${op}`;
  }
  if (metric.type === 'achieved' && scope) return `${JSON.stringify(raw)}: "achieved" is measured for the whole run, not per request name`;
  let forMs: number | undefined;
  if (forRaw !== undefined) {
    if (!opts.allowFor) return `${JSON.stringify(raw)}: "for" belongs to stop conditions, not hypothesis clauses`;
    forMs = parseDuration(forRaw);
    if (forMs === undefined) return `${JSON.stringify(raw)}: expected a duration like "5s" after "for"`;
  }
  const text = `${scope ? scope + '.' : ''}${metricRaw.replace(/\s/g, '')} ${op} ${valueRaw.trim()}${forRaw ? ` for ${forRaw}` : ''}`;
  return { text, scope, metric, op: op as Op, threshold, forMs };
}

/** Splits "p99<250ms, errors<1%" (commas or semicolons) or takes a list as is. */
export function splitClauses(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.flatMap((s) => s.split(/[,;]/)).map((s) => s.trim()).filter(Boolean);
}

export function compare(value: number, op: Op, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}
