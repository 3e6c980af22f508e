/**
 * One result, every format: the terminal, JSON, HTML, JUnit and compare show
 * the same verdict for each clause, because each reads the analysis the run
 * stored (analyze), none recomputes it. Built from a synthetic Timeline with
 * known ground truth: p99 breaks by load from 500 req/s; errors break under a
 * fault not declared mayBreak; a scoped clause has too few requests to judge.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { initHistograms } from '../../src/metrics/histogram.ts';
import { analyze } from '../../src/analysis/analyze.ts';
import { decideOutcome } from '../../src/analysis/gate.ts';
import { upgradeResult } from '../../src/analysis/upgrade.ts';
import { renderReport } from '../../src/report/terminal.ts';
import { junitXml } from '../../src/report/junit.ts';
import { htmlReport } from '../../src/report/html.ts';
import { compareResults } from '../../src/report/compare.ts';
import { paint } from '../../src/report/format.ts';
import { RESULT_VERSION, type Result } from '../../src/result.ts';
import type { StageResult } from '../../src/timeline.ts';
import { clauses, healthy, slowed, timeline, windows, T0 } from '../analysis/synthetic.ts';
import { parseXml, findAll } from './xml.ts';
import { schemaErrors } from './schema.ts';

beforeAll(async () => {
  await initHistograms();
});

const rates = [100, 100, 200, 200, 300, 300, 400, 400, 500, 500, 600, 600];
function build(): Result {
  const cs = clauses('p99 < 100ms', 'errors < 5%', 'rare.p99 < 1s');
  const parts = rates.map((r, i) => {
    if (i >= 8) return slowed();
    if (i === 2 || i === 3) return { slow: { n: 50, ms: 5, errors: 10 }, fast: { n: 50, ms: 2 }, rare: { n: 1, ms: 3 } };
    return { ...healthy(), rare: { n: 1, ms: 3 } };
  });
  const ws = windows(parts, rates, (i) => Math.floor(i / 2));
  const t = timeline(ws, [{ name: 'db errors', start: 2, end: 4 }]);
  const stages: StageResult[] = [0, 1, 2, 3, 4, 5].map((i) => ({
    index: i, label: `${rates[i * 2]} req/s`, model: 'open', start: T0 + i * 2000, end: T0 + (i + 1) * 2000, offeredRate: rates[i * 2], achievedRate: rates[i * 2],
    requests: 200, errors: {}, errorCount: 0, errorRate: 0, examples: {}, latency: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1, min: 1 },
    serviceTime: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1, min: 1 }, byName: {}, generatorLimited: false,
  }));
  const plans = stages.map((s) => ({ kind: 'load' as const, model: 'open' as const, rateFrom: s.offeredRate, rateTo: s.offeredRate, warmupMs: 0 }));
  const runEnd = t.events[t.events.length - 1].t;
  const a = analyze(t, { clauses: cs, windowMs: 1000, sustain: 2, minSamples: 20, plans, stages, runStart: T0, runEnd, expectedPeak: 400, required: 400 });
  return {
    version: RESULT_VERSION,
    meta: { faultline: 'test', node: 'v24', platform: 'linux', cores: 2, workers: 1, connections: 10, pipelining: 1, startedAt: new Date(T0).toISOString(), durationMs: 12_000, target: 'http://127.0.0.1:1', model: 'open', timeoutMs: 10_000, expectedPeak: 400 },
    stages,
    timeline: t,
    outcome: decideOutcome(a, {}),
    ...a,
  };
}

describe('every report format shows the same clause verdicts', () => {
  it('the analysis has the ground truth', () => {
    const r = build();
    expect(r.clauses!.map((c) => [c.clause, c.outcome])).toEqual([
      ['p99 < 100ms', 'pass'], // broke at 500 req/s, above the required 400
      ['errors < 5%', 'fail'], // broke under "db errors", not declared mayBreak
      ['rare.p99 < 1s', 'inconclusive'], // one request per window: never judged
    ]);
    expect(r.clauses![1].brokenBy).toEqual(['db errors']);
    expect(r.breakingPoint).toMatchObject({ clause: 'p99 < 100ms', firstFailing: { rate: 500 }, lastPassing: { rate: 400 }, bracket: { width: 100 } });
    expect(r.outcome).toMatchObject({ exitCode: 1, status: 'broke' });
    expect(r.outcome.reason).toContain('"db errors" broke the hypothesis (errors < 5%)');
    expect(schemaErrors(JSON.parse(JSON.stringify(r)))).toEqual([]);
  });

  it('terminal, JUnit, HTML, JSON and compare agree clause by clause', () => {
    const r = build();
    const want = Object.fromEntries(r.clauses!.map((c) => [c.clause, c.outcome]));
    // Terminal.
    const text = renderReport(r, paint(process.stdout, true));
    const term: Record<string, string> = {};
    for (const l of text.split('\n')) {
      const m = /^\s+[✓✗?] (pass|fail|inconclusive)\s+(.+?) — /.exec(l);
      if (m) term[m[2]] = m[1];
    }
    expect(term).toEqual(want);
    expect(text).toMatch(/^exit 1: /m);
    // JUnit.
    const doc = parseXml(junitXml(r));
    const junit: Record<string, string> = {};
    for (const c of findAll(doc, 'testcase').filter((c) => c.attrs.classname === 'faultline.hypothesis')) {
      junit[c.attrs.name] = findAll(c, 'failure').length ? 'fail' : findAll(c, 'skipped').length ? 'inconclusive' : 'pass';
    }
    expect(junit).toEqual(want);
    // HTML: the hypothesis table, one row per clause.
    const html = htmlReport(r);
    const rows = [...html.matchAll(/<tr><td[^>]*><code>([^<]+)<\/code><\/td><td[^>]*><span class="\w+">(pass|fail|inconclusive)<\/span>/g)].map((m) => [m[1].replace(/&lt;/g, '<'), m[2]]);
    expect(Object.fromEntries(rows)).toEqual(want);
    // JSON: the stored analysis, read back as written.
    const back = upgradeResult(JSON.parse(JSON.stringify(r)) as Result);
    expect(Object.fromEntries(back.clauses!.map((c) => [c.clause, c.outcome]))).toEqual(want);
    // compare: a result against itself shows each clause's verdict, unchanged.
    const cmp = compareResults(r, r);
    const rowsC = cmp.rows.filter((x) => x.what.startsWith('clause '));
    expect(Object.fromEntries(rowsC.map((x) => [x.what.slice(7), x.base]))).toEqual(want);
  });

  it('a version-1 result is read: analysed once on load, to the same verdicts', () => {
    const r = build();
    const v1 = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
    v1.version = 1;
    delete v1.clauses;
    delete v1.stageOutcomes;
    delete v1.generator;
    const h = v1.hypothesis as { clauses: unknown[]; verdicts: { status: string }[]; required: number };
    h.clauses = ['p99 < 100ms', 'errors < 5%', 'rare.p99 < 1s'];
    for (const v of h.verdicts) if (v.status === 'inconclusive') v.status = 'insufficient';
    const up = upgradeResult(v1 as unknown as Result);
    expect(up.version).toBe(RESULT_VERSION);
    expect(up.upgradedFrom).toBe(1);
    expect(up.clauses!.map((c) => c.outcome)).toEqual(['pass', 'fail', 'inconclusive']);
    expect(up.outcome).toEqual(r.outcome); // the exit code the run ended with is kept
  });
});
