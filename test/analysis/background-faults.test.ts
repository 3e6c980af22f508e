/**
 * Chaos Monkey under load: with a repeating fault firing throughout, the clean
 * breaking point (every fault's windows left out) has little left to judge; the
 * breaking point under that background fault rate counts them as load and is
 * reported beside it. Synthetic Timeline, exact ground truth.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initHistograms } from '../../src/metrics/histogram.ts';
import { analyze } from '../../src/analysis/analyze.ts';
import { renderReport } from '../../src/report/terminal.ts';
import { paint } from '../../src/report/format.ts';
import { decideOutcome } from '../../src/analysis/gate.ts';
import { RESULT_VERSION, type Result } from '../../src/result.ts';
import type { StageResult } from '../../src/timeline.ts';
import { clauses, healthy, slowed, timeline, windows, T0 } from './synthetic.ts';

beforeAll(async () => {
  await initHistograms();
});

// Six stages of 4 windows: 100 … 600 req/s; p99 breaks from 400 req/s (window 12) on.
const rates = [100, 200, 300, 400, 500, 600].flatMap((r) => [r, r, r, r]);

function run(faultStarts: number[], series: boolean) {
  const cs = clauses('p99 < 100ms');
  const ws = windows(rates.map((_, i) => (i >= 12 ? slowed() : healthy())), rates, (i) => Math.floor(i / 4));
  const names = faultStarts.map((_, k) => `monkey #${k + 1}`);
  const t = timeline(ws, faultStarts.map((s, k) => ({ name: names[k]!, start: s, end: s + 1 })));
  const stages: StageResult[] = [0, 1, 2, 3, 4, 5].map((i) => ({
    index: i, label: `${rates[i * 4]} req/s`, model: 'open', start: T0 + i * 4000, end: T0 + (i + 1) * 4000, offeredRate: rates[i * 4]!, achievedRate: rates[i * 4]!,
    requests: 400, errors: {}, errorCount: 0, errorRate: 0, examples: {}, latency: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1, min: 1 },
    serviceTime: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1, min: 1 }, byName: {}, generatorLimited: false,
  }));
  const plans = stages.map((s) => ({ kind: 'load' as const, model: 'open' as const, rateFrom: s.offeredRate, rateTo: s.offeredRate, warmupMs: 0 }));
  const runEnd = T0 + rates.length * 1000;
  const a = analyze(t, {
    clauses: cs, windowMs: 1000, sustain: 2, minSamples: 20, plans, stages, runStart: T0, runEnd,
    ...(series ? { series: Object.fromEntries(names.map((n) => [n, 'monkey'])) } : {}),
    mayBreak: Object.fromEntries(names.map((n) => [n, true as const])),
  });
  return { a, t, stages };
}

describe('the breaking point under a background fault rate', () => {
  it('is reported beside the clean one, from the same windows counted as load', () => {
    // A 1 s fault every 3 s: with sustain 2, every window is within reach of one.
    const starts = Array.from({ length: 8 }, (_, k) => 3 * k + 0.5);
    const { a, t, stages } = run(starts, true);
    expect(a.breakingPoint).toBeNull();
    expect(a.underFaults).toBeDefined();
    expect(a.underFaults!.series).toEqual(['monkey']);
    expect(a.underFaults!.breakingPoint!.firstFailing.rate).toBe(400);
    expect(a.underFaults!.breakingPoint!.lastPassing!.rate).toBe(300);
    const r: Result = {
      version: RESULT_VERSION,
      meta: { faultline: 'test', node: 'v24', platform: 'linux', cores: 2, workers: 1, connections: 10, pipelining: 1, startedAt: new Date(T0).toISOString(), durationMs: 24_000, target: 'http://127.0.0.1:1', model: 'open', timeoutMs: 10_000 },
      stages, timeline: t, outcome: decideOutcome(a, {}), ...a,
    };
    expect(renderReport(r, paint(undefined, true))).toMatch(/Under the background fault schedule \(monkey\): broke at 400 req\/s \(held at 300 req\/s\)\./);
  });

  it('is absent without repeating faults; one-off faults keep the clean rule', () => {
    const { a } = run([0.5], false);
    expect(a.underFaults).toBeUndefined();
    expect(a.breakingPoint!.firstFailing.rate).toBe(400);
  });
});
