import { describe, it, expect } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { Injector, type InjectorTick } from '../../src/faults/injector.ts';
import type { Fault, FaultKind, FaultSpecBase } from '../../src/faults/types.ts';
import type { TimelineEvent } from '../../src/timeline.ts';
import { testCtx } from '../fixtures/faultCtx.ts';

/** A fake kind that records calls; behaviour per fault name via params. */
function recorder() {
  const calls: string[] = [];
  const kind: FaultKind = {
    name: 'test',
    params: z.record(z.string(), z.unknown()),
    targets: 'none',
    describe: 'test',
    create(spec: FaultSpecBase): Fault {
      const p = spec.params as { failStart?: boolean; startMs?: number; stopMs?: number; failStop?: boolean; finishMs?: number };
      let fin: Promise<void> | undefined;
      return {
        spec,
        async start() {
          calls.push(`start ${spec.name}`);
          if (p.startMs) await sleep(p.startMs);
          if (p.failStart) throw new Error('boom half-way');
          if (p.finishMs !== undefined) fin = sleep(p.finishMs).then(() => {});
        },
        async stop() {
          calls.push(`stop ${spec.name}`);
          if (p.stopMs) await sleep(p.stopMs);
          if (p.failStop) throw new Error('cannot undo');
        },
        detail: () => ({ name: spec.name }),
        ...(p.finishMs !== undefined ? { finished: () => fin ?? Promise.resolve() } : {}),
      };
    },
  };
  return { calls, kinds: { rec: kind } };
}

const f = (name: string, more: Partial<FaultSpecBase> = {}, params: Record<string, unknown> = {}): FaultSpecBase => ({ name, kind: 'rec', params, ...more });
const tick = (elapsedMs: number, offeredRate = 0, stage = 0): InjectorTick => ({ now: 1_000_000 + elapsedMs, elapsedMs, offeredRate, stage });

describe('Injector', () => {
  it('starts on at / atLoad / atStage and stops after duration, with the offered rate on each event', async () => {
    // Synthetic time: the clock the Injector reads after async work stands still, so durations are exact.
    const fakeNow = 0;
    const { calls, kinds } = recorder();
    const events: TimelineEvent[] = [];
    const inj = new Injector(
      [f('timed', { at: 1000, duration: 500 }), f('loaded', { atLoad: 300, duration: 200 }), f('staged', { atStage: 2 })],
      testCtx(),
      kinds,
      (e) => events.push(e),
      { clock: () => fakeNow },
    );
    await inj.tick(tick(0, 100, 0));
    expect(inj.active()).toEqual([]);
    await inj.tick(tick(999, 250, 1));
    expect(inj.active()).toEqual([]);
    await inj.tick(tick(1000, 300, 1));
    expect(inj.active().sort()).toEqual(['loaded', 'timed']);
    await inj.tick(tick(1200, 320, 1)); // loaded: 200 ms elapsed
    expect(inj.active()).toEqual(['timed']);
    await inj.tick(tick(1499, 340, 2)); // stage 2 starts
    expect(inj.active().sort()).toEqual(['staged', 'timed']);
    await inj.tick(tick(1500, 350, 2));
    expect(inj.active()).toEqual(['staged']); // no duration: until the run ends
    await inj.tick(tick(60_000, 0, 3));
    expect(inj.active()).toEqual(['staged']);
    const res = await inj.undoAll();
    expect(res.failed).toEqual([]);
    expect(inj.active()).toEqual([]);
    expect(calls).toEqual(['start timed', 'start loaded', 'stop loaded', 'start staged', 'stop timed', 'stop staged']);
    const summary = events.map((e) => (e.type === 'fault-start' || e.type === 'fault-stop' ? `${e.type} ${e.fault} @${e.offeredRate}` : e.type));
    expect(summary).toEqual([
      'fault-start timed @300',
      'fault-start loaded @300',
      'fault-stop loaded @320',
      'fault-start staged @340',
      'fault-stop timed @350',
      'fault-stop staged @0',
    ]);
    const stopTimed = events.find((e) => e.type === 'fault-stop' && e.fault === 'timed');
    expect(stopTimed).toMatchObject({ detail: { name: 'timed' } });
    expect(events.find((e) => e.type === 'fault-start' && e.fault === 'timed')!.t).toBe(1_001_000);
  });

  it('overlapping ticks do not start (or stop) a fault twice', async () => {
    const { calls, kinds } = recorder();
    const inj = new Injector([f('slow', { at: 0, duration: 100 }, { startMs: 100, stopMs: 100 })], testCtx(), kinds, () => {});
    await Promise.all([inj.tick(tick(0)), inj.tick(tick(10)), inj.tick(tick(20))]);
    await Promise.all([inj.tick(tick(200)), inj.tick(tick(210)), inj.tick(tick(220))]);
    await inj.undoAll();
    expect(calls).toEqual(['start slow', 'stop slow']);
  });

  it('a start that throws is reported and still followed by stop(); undoAll reports failed undos and timeouts', async () => {
    const { calls, kinds } = recorder();
    const events: TimelineEvent[] = [];
    const inj = new Injector(
      [f('half', {}, { failStart: true }), f('stuck', {}, { stopMs: 5_000 }), f('bad', {}, { failStop: true }), f('never', { at: 1e9 })],
      testCtx(),
      kinds,
      (e) => events.push(e),
    );
    await inj.tick(tick(0));
    expect(calls.slice(0, 4).sort()).toEqual(['start bad', 'start half', 'start stuck', 'stop half']);
    expect(events.filter((e) => e.type === 'fault-error')).toEqual([expect.objectContaining({ fault: 'half', message: 'start failed: boom half-way' })]);
    expect(events.some((e) => e.type === 'fault-start' && e.fault === 'half')).toBe(false);
    const t0 = Date.now();
    const res = await inj.undoAll({ timeoutMs: 200 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(res.failed).toEqual([
      { fault: 'stuck', error: 'undo of stuck timed out after 0.2s' },
      { fault: 'bad', error: 'cannot undo' },
    ]);
    expect(calls.filter((c) => c.startsWith('stop')).sort()).toEqual(['stop bad', 'stop half', 'stop stuck']);
    // Nothing starts after undoAll.
    await inj.tick(tick(2e9));
    expect(calls).not.toContain('start never');
  });

  it('undoAll waits for a start in flight and then undoes it', async () => {
    const { calls, kinds } = recorder();
    const inj = new Injector([f('slow', {}, { startMs: 150 })], testCtx(), kinds, () => {});
    const t = inj.tick(tick(0));
    await sleep(10);
    expect(inj.active()).toEqual(['slow']);
    await inj.undoAll();
    await t;
    expect(calls).toEqual(['start slow', 'stop slow']);
  });

  it('a fault is in effect from when start() returned: fault-start is stamped then and duration counts from there', async () => {
    const { kinds } = recorder();
    const events: TimelineEvent[] = [];
    const inj = new Injector([f('slow', { duration: 100 }, { startMs: 80 })], testCtx(), kinds, (e) => events.push(e), { clock: () => Date.now() });
    const t0 = Date.now();
    await inj.tick({ now: t0, elapsedMs: 0, offeredRate: 1, stage: 0 });
    const startT = events[0].t - t0;
    expect(startT).toBeGreaterThanOrEqual(75);
    expect(startT).toBeLessThan(500);
    await inj.tick({ now: t0 + 150, elapsedMs: 150, offeredRate: 1, stage: 0 });
    expect(inj.active()).toEqual(['slow']); // 150 ms after the trigger, but under 100 ms in effect
    await inj.tick({ now: t0 + startT + 100, elapsedMs: startT + 100, offeredRate: 1, stage: 0 });
    expect(inj.active()).toEqual([]);
  });

  it('a fault with no duration that finishes by itself is stopped then', async () => {
    const { calls, kinds } = recorder();
    const inj = new Injector([f('self', {}, { finishMs: 100 })], testCtx(), kinds, () => {});
    await inj.tick(tick(0));
    await inj.tick(tick(50));
    expect(inj.active()).toEqual(['self']);
    await sleep(150);
    await inj.tick(tick(200));
    expect(inj.active()).toEqual([]);
    expect(calls).toEqual(['start self', 'stop self']);
  });

  it('an unknown kind is a fault-error, not a crash', async () => {
    const events: TimelineEvent[] = [];
    const inj = new Injector([{ name: 'x', kind: 'nope', params: {} }], testCtx(), {}, (e) => events.push(e));
    await inj.tick(tick(0));
    expect(events).toEqual([expect.objectContaining({ type: 'fault-error', message: 'start failed: unknown fault kind "nope"' })]);
    expect((await inj.undoAll()).failed).toEqual([]);
  });
});
