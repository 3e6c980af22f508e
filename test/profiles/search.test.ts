import { describe, it, expect } from 'vitest';
import { create, schema } from '../../src/profiles/search.ts';
import type { StagePlan } from '../../src/profiles/types.ts';

/** Drives the search against a pretend system with a sharp capacity, no sockets: the bisection logic alone. */
function drive(capacity: number, cfg: Record<string, unknown>) {
  const c = schema.parse({ profile: 'search', ...cfg });
  const p = create(c, (r) => ('rps' in r ? r.rps : NaN));
  const probes: StagePlan[] = [];
  let prev;
  for (let i = 0; i < 100; i++) {
    const st = p.next(prev);
    if (!st) break;
    probes.push(st);
    prev = { plan: st, held: st.rateFrom <= capacity, inconclusive: false, generatorLimited: false, achievedRate: Math.min(st.rateFrom, capacity) };
  }
  return { probes, report: p.report() };
}

describe('search profile', () => {
  it('grows until a probe fails, then bisects to the stated precision', () => {
    const { report } = drive(437, { from: 100, to: 2000, growth: 2, precision: '2%', probeDuration: '1s', cooldown: 0, budget: '10m' });
    expect(report.ended).toBe('converged');
    expect(report.lastPassing!).toBeLessThanOrEqual(437);
    expect(report.firstFailing!).toBeGreaterThan(437);
    expect((report.firstFailing! - report.lastPassing!) / report.lastPassing!).toBeLessThanOrEqual(0.02);
    expect(report.probes.slice(0, 3).map((p) => p.rate)).toEqual([100, 200, 400]);
  });
  it('starts from a given bracket', () => {
    const { probes } = drive(437, { from: 100, to: 2000, bracket: [300, 600], precision: '5%', cooldown: 0 });
    expect(probes[0].rateFrom).toBe(450);
  });
  it('stops when the budget runs out and says so', () => {
    const { report } = drive(437, { from: 100, to: 2000, growth: 2, precision: '0.1%', probeDuration: '10s', cooldown: '0s', budget: '50s' });
    expect(report.ended).toBe('budget');
    expect(report.probes.length).toBe(5);
  });
  it('reports holding to the maximum when nothing fails', () => {
    const { report } = drive(1e9, { from: 100, to: 1000, growth: 2, cooldown: 0 });
    expect(report.ended).toBe('held-to-max');
    expect(report.lastPassing).toBe(1000);
  });
  it('excludes each probe\'s warm-up from its verdict', () => {
    const { probes } = drive(437, { from: 100, to: 2000, warmup: '1s', probeDuration: '4s', cooldown: 0 });
    expect(probes.every((p) => p.warmupMs === 1000 && p.kind === 'probe')).toBe(true);
  });
});
