import { describe, it, expect } from 'vitest';
import { findBreaches } from '../../src/analysis/breaches.ts';
import { correlate } from '../../src/analysis/correlation.ts';
import { upgradeResult } from '../../src/analysis/upgrade.ts';
import { T0, clauses, healthy, slowed, timeline, verdictsOf, windows, type FaultAt } from './synthetic.ts';
import type { Window } from '../../src/timeline.ts';

const cs = clauses('p99 < 100ms');
const SUSTAIN = 2;

function analyse(ws: Window[], faults: FaultAt[], c = cs) {
  const t = timeline(ws, faults);
  const vs = verdictsOf(t, c);
  const end = t.events[t.events.length - 1].t;
  const breaches = findBreaches(t, vs, c, SUSTAIN, [], end);
  const faultsOut = correlate(t, vs, c, breaches, { sustain: SUSTAIN, minSamples: 20 });
  return { t, vs, breaches, faults: faultsOut };
}

describe('attribution of breaches (breaches.ts)', () => {
  it('a load-only breach is attributed to load', () => {
    // Offered rate rises; from window 6 on p99 breaks and stays broken; no fault.
    const ws = windows([...Array(6).fill(healthy()), ...Array(4).fill(slowed())], [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    const { breaches, faults } = analyse(ws, []);
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({ attribution: 'load', faults: [], sustained: true, startWindow: 6, offeredRate: 700, ongoing: true });
    expect(faults).toEqual([]);
  });

  it('a breach that starts before a fault is not blamed on it', () => {
    // Broken by load from window 3; a fault comes at 5.2 s while it is still broken.
    const ws = windows([...Array(3).fill(healthy()), ...Array(7).fill(slowed())]);
    const { breaches, faults } = analyse(ws, [{ name: 'late fault', start: 5.2, end: 7 }]);
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({ attribution: 'load', faults: [], startWindow: 3 });
    const f = faults[0];
    expect(f.breaches).toEqual([]);
    expect(f.preexisting).toEqual([0]);
    expect(f.held).toBe(false);
    expect(f.impact).toBeUndefined();
    expect(f.timeToImpactMs).toBeUndefined();
    expect(f.recovery).toBe('not-needed');
  });

  it('a breach that begins while a fault is active is attributed to it; one that outlasts it by sustain windows is split and reported as both', () => {
    const shortFault = windows([...Array(3).fill(healthy()), ...Array(3).fill(slowed()), ...Array(4).fill(healthy())]);
    expect(analyse(shortFault, [{ name: 'f', start: 3, end: 6 }]).breaches[0]).toMatchObject({ attribution: 'fault', faults: ['f'] });
    const outlasting = windows([...Array(3).fill(healthy()), ...Array(7).fill(slowed())]);
    // Fault 3–5 s: windows 3–6 are the fault's (up to one window after its end), 7–9 the load's.
    expect(analyse(outlasting, [{ name: 'f', start: 3, end: 5 }]).breaches).toMatchObject([
      { attribution: 'fault', faults: ['f'], startWindow: 3, endWindow: 6, part: { index: 0, of: 2 } },
      { attribution: 'load', faults: [], startWindow: 7, endWindow: 9, sustained: true, ongoing: true, part: { index: 1, of: 2 } },
    ]);
  });

  it('a one-window blip just before a fault does not make the fault\'s breach the load\'s', () => {
    // Window 2 fails alone (a blip), the fault comes at 3 s and breaks windows 3–5.
    const ws = windows([...Array(2).fill(healthy()), ...Array(4).fill(slowed()), ...Array(4).fill(healthy())]);
    const { breaches, faults } = analyse(ws, [{ name: 'f', start: 3, end: 6 }]);
    expect(breaches).toMatchObject([{ attribution: 'fault', faults: ['f'], startWindow: 2, endWindow: 5 }]);
    expect(faults[0].held).toBe(false);
  });

  it('a fault that comes into a breach already sustained by load is not blamed, even if it lasts longer', () => {
    const ws = windows([...Array(2).fill(healthy()), ...Array(8).fill(slowed())]);
    const { breaches } = analyse(ws, [{ name: 'f', start: 4, end: 10 }]);
    expect(breaches).toMatchObject([{ attribution: 'load', faults: [], startWindow: 2 }]);
  });

  it('a one-window breach is a blip, listed apart, and the hypothesis still held', () => {
    const ws = windows([...Array(3).fill(healthy()), slowed(), ...Array(4).fill(healthy())]);
    const { breaches, faults } = analyse(ws, [{ name: 'f', start: 3, end: 4 }]);
    expect(breaches).toHaveLength(1);
    expect(breaches[0].sustained).toBe(false);
    expect(faults[0].held).toBe(true);
    expect(faults[0].impact).toMatchObject({ sustained: false });
    expect(faults[0].blastRadius.byName.slow.status).toBe('blip');
    expect(faults[0].blastRadius.affected).toEqual([]);
  });
});

describe('fault correlation', () => {
  // Fault from 3.4 s to 6.4 s: windows 3..6 are slow for `slow` only (the window it ends in too).
  const ws = windows([...Array(3).fill(healthy()), ...Array(4).fill(slowed()), ...Array(5).fill(healthy())]);
  const fault: FaultAt = { name: 'dep latency', start: 3.4, end: 6.4 };

  it('measures time to impact and time to recovery at window resolution', () => {
    const { faults } = analyse(ws, [fault]);
    expect(faults).toHaveLength(1);
    const f = faults[0];
    expect(f).toMatchObject({ fault: 'dep latency', kind: 'latency', target: 'dep', held: false, recovery: 'recovered', activeAtEnd: false, resolutionMs: 1000 });
    // First failing window starts at 3 s, before the fault (3.4 s): impact is immediate.
    expect(f.timeToImpactMs).toBe(0);
    // The fault ends at 6.4 s; window 7 (7 s) starts the healthy run.
    expect(f.timeToRecoveryMs).toBeCloseTo(600, 6);
    expect(f.startElapsedMs).toBeCloseTo(3400, 6);
    expect(f.impact).toMatchObject({ clause: 'p99 < 100ms', sustained: true });
    expect(f.impact!.worst).toBeGreaterThan(290);
    expect(f.impact!.before).toBeLessThan(10);
  });

  it('reports before/during/after metrics overall and per request name', () => {
    const f = analyse(ws, [fault]).faults[0];
    expect(f.metrics.before!.p99).toBeLessThan(10);
    expect(f.metrics.during!.p99).toBeGreaterThan(290);
    expect(f.metrics.after!.p99).toBeLessThan(10);
    expect(f.byName.slow.during!.p50).toBeGreaterThan(290);
    expect(f.byName.fast.during!.p99).toBeLessThan(5);
    expect(f.metrics.during!.errorRate).toBe(0);
    expect(f.metrics.during!.achievedRate).toBe(100);
  });

  it('names the blast radius: the request name that breached and the one that did not', () => {
    const f = analyse(ws, [fault]).faults[0];
    expect(f.blastRadius.affected).toEqual(['slow']);
    expect(f.blastRadius.unaffected).toEqual(['fast']);
    expect(f.blastRadius.byName.slow).toEqual({ status: 'breached', clauses: ['slow.p99 < 100ms'] });
    expect(f.blastRadius.byName.fast.status).toBe('held');
  });

  it('a request name with too few samples is unknown, not unaffected', () => {
    const thin = windows([...Array(3).fill({ ...healthy(), rare: { n: 2, ms: 1 } }), ...Array(4).fill({ ...slowed(), rare: { n: 2, ms: 1 } }), ...Array(5).fill({ ...healthy(), rare: { n: 2, ms: 1 } })]);
    const f = analyse(thin, [fault]).faults[0];
    expect(f.blastRadius.unknown).toEqual(['rare']);
  });

  it('says the system did not recover within the run when no healthy run came', () => {
    const never = windows([...Array(3).fill(healthy()), ...Array(7).fill(slowed())]);
    const f = analyse(never, [{ name: 'f', start: 3, end: 6 }]).faults[0];
    expect(f.recovery).toBe('not-recovered');
    expect(f.timeToRecoveryMs).toBeUndefined();
    expect(f.held).toBe(false);
  });

  it('a single healthy window is not a recovery: it takes sustain windows', () => {
    const flaky = windows([...Array(3).fill(healthy()), ...Array(3).fill(slowed()), healthy(), slowed(), slowed(), healthy(), healthy(), healthy()]);
    const f = analyse(flaky, [{ name: 'f', start: 3, end: 6 }]).faults[0];
    expect(f.recovery).toBe('recovered');
    // Window 6 passes alone, 7–8 fail; the healthy run starts at window 9.
    expect(f.timeToRecoveryMs).toBe(3000);
  });

  it('recovery cut short by a load breach still counts: the fault’s own effect had ended', () => {
    // Fault 3–5 s breaks windows 3–4; window 5 passes; load breaks windows 6–9 (a new breach, not the fault's).
    const ws2 = windows([...Array(3).fill(healthy()), ...Array(2).fill(slowed()), healthy(), ...Array(4).fill(slowed())], [100, 100, 100, 100, 100, 100, 500, 500, 500, 500]);
    const { faults, breaches } = analyse(ws2, [{ name: 'f', start: 3, end: 4.6 }]);
    expect(breaches.map((b) => b.attribution)).toEqual(['fault', 'load']);
    expect(faults[0].recovery).toBe('recovered');
    expect(faults[0].timeToRecoveryMs).toBeCloseTo(400, 6);
  });

  it('a fault with no breach held: no impact, recovery not needed', () => {
    const calm = windows(Array(8).fill(healthy()));
    const f = analyse(calm, [{ name: 'f', start: 2, end: 4 }]).faults[0];
    expect(f).toMatchObject({ held: true, recovery: 'not-needed', breaches: [], preexisting: [] });
    expect(f.blastRadius.unaffected).toEqual(['fast', 'slow']);
  });

  it('a fault still active at the end is marked so', () => {
    const f = analyse(ws, [{ name: 'f', start: 9 }]).faults[0];
    expect(f.activeAtEnd).toBe(true);
    expect(f.end).toBe(T0 + 12_000);
  });

  it('reports the restart-to-ready time from the fault-stop detail beside the clients’ recovery', () => {
    const f = analyse(ws, [{ ...fault, detail: { signal: 'SIGKILL', restartToReadyMs: [812], downMs: [2950] } }]).faults[0];
    expect(f.restart).toEqual({ restartToReadyMs: [812], downMs: [2950] });
    expect(f.detail).toMatchObject({ signal: 'SIGKILL' });
    expect(f.timeToRecoveryMs).toBeDefined();
  });

  it('correlates two faults independently, each with its own breaches', () => {
    const two = windows([...Array(2).fill(healthy()), ...Array(2).fill(slowed()), ...Array(4).fill(healthy()), ...Array(2).fill(slowed()), ...Array(3).fill(healthy())]);
    const { faults, breaches } = analyse(two, [
      { name: 'first', start: 2, end: 4 },
      { name: 'second', start: 8, end: 10 },
    ]);
    expect(breaches.map((b) => b.faults)).toEqual([['first'], ['second']]);
    expect(faults.map((f) => f.breaches)).toEqual([[0], [1]]);
    expect(faults.map((f) => f.recovery)).toEqual(['recovered', 'recovered']);
  });

  it('a saved version-1 result gives the same correlation (upgraded once on load)', () => {
    const { t, faults } = analyse(ws, [fault]);
    const runEnd = t.events[t.events.length - 1].t;
    const saved = JSON.parse(
      JSON.stringify({
        version: 1,
        meta: { target: 'http://127.0.0.1:1', startedAt: new Date(T0).toISOString() },
        timeline: t,
        stages: [{ index: 0, model: 'open', offeredRate: 100, start: T0, end: runEnd }],
        outcome: { exitCode: 0, status: 'held', reason: '' },
        hypothesis: { clauses: cs.map((c) => c.text), sustain: SUSTAIN, minSamples: 20, verdicts: [] },
      }),
    );
    expect(upgradeResult(saved).faults).toEqual(JSON.parse(JSON.stringify(faults)));
  });

  it('an error clause is judged per request name too', () => {
    const errs = clauses('errors < 1%');
    const bad = windows([...Array(3).fill(healthy()), ...Array(3).fill({ slow: { n: 50, ms: 5, errors: 25 }, fast: { n: 50, ms: 2 } }), ...Array(4).fill(healthy())]);
    const f = analyse(bad, [{ name: 'f', start: 3, end: 6 }], errs).faults[0];
    expect(f.blastRadius.affected).toEqual(['slow']);
    expect(f.metrics.during!.errorRate).toBeCloseTo(0.25, 6);
    expect(f.byName.slow.during!.errorRate).toBeCloseTo(0.5, 6);
  });
});
