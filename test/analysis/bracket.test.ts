import { describe, it, expect } from 'vitest';
import { findBreakingPoint } from '../../src/analysis/breaches.ts';
import { clauses, healthy, slowed, timeline, verdictsOf, windows, T0 } from './synthetic.ts';

describe('the search states its bracket', () => {
  it('last passing = the highest passing probe below the first failing one, from any probe, and the bracket width', () => {
    // Probes of 2 windows each, in the order a bisection runs them: 375 passes, 413 fails,
    // then 394 and 403 pass. Only 375 came before the failure.
    const rates = [375, 375, 413, 413, 394, 394, 403, 403];
    const parts = rates.map((r) => (r >= 413 ? slowed() : healthy()));
    const ws = windows(parts, rates, (i) => Math.floor(i / 2));
    const t = timeline(ws);
    const cs = clauses('p99 < 100ms');
    const plans = [375, 413, 394, 403].map((r) => ({ kind: 'probe' as const, model: 'open' as const, rateFrom: r, rateTo: r, concurrency: 0, durationMs: 2000, warmupMs: 0, label: `${r}` }));
    const { breakingPoint } = findBreakingPoint(t, verdictsOf(t, cs), cs, 2, plans, T0, T0 + ws.length * 1000, 400);
    expect(breakingPoint).toMatchObject({ firstFailing: { rate: 413 }, lastPassing: { rate: 403, stage: 3 }, bracket: { width: 10 } });
    expect(breakingPoint!.bracket!.relative).toBeCloseTo(10 / 403, 9);
  });
});
