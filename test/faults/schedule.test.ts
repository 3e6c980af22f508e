import { describe, expect, it } from 'vitest';
import { planSchedule } from '../../src/faults/schedule.ts';

const base = { startMs: 0, horizonMs: 60_000, seed: 7, name: 'monkey' };

describe('repeating faults: a schedule planned from the seed', () => {
  it('every: one occurrence per period from the start, none at or past the horizon', () => {
    const p = planSchedule({ everyMs: 10_000, pick: 'random', maxConcurrent: 1 }, { ...base, startMs: 5000, durationMs: 2000 });
    expect(p.occurrences.map((o) => o.atMs)).toEqual([5000, 15000, 25000, 35000, 45000, 55000]);
    expect(p.occurrences.map((o) => o.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(p.skipped).toEqual([]);
  });

  it('the same seed replays the same times and targets; another seed does not', () => {
    const r = { meanMs: 2000, targets: ['a', 'b', 'c'], pick: 'random' as const, maxConcurrent: 1 };
    const one = planSchedule(r, base);
    const two = planSchedule(r, base);
    expect(two).toEqual(one);
    expect(one.occurrences.length).toBeGreaterThan(10);
    const other = planSchedule(r, { ...base, seed: 8 });
    expect(other.occurrences.map((o) => o.atMs)).not.toEqual(one.occurrences.map((o) => o.atMs));
    // Every target is drawn, none other.
    expect(new Set(one.occurrences.map((o) => o.target))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('a fault of another name draws its own stream (adding a fault does not reshuffle the others)', () => {
    const r = { meanMs: 2000, pick: 'random' as const, maxConcurrent: 1 };
    expect(planSchedule(r, { ...base, name: 'x' }).occurrences).not.toEqual(planSchedule(r, { ...base, name: 'y' }).occurrences);
  });

  it('random: Poisson inter-arrival times with the stated mean (within 15% over 200 events)', () => {
    for (const seed of [1, 2, 3, 42]) {
      const p = planSchedule({ meanMs: 20_000, pick: 'random', maxConcurrent: 1 }, { ...base, seed, horizonMs: 1e12 });
      const at = p.occurrences.slice(0, 201).map((o) => o.atMs);
      expect(at.length).toBe(201);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      expect(Math.abs(mean - 20_000) / 20_000).toBeLessThan(0.15);
      // Exponential, not periodic: the gaps' coefficient of variation is near 1.
      const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
      expect(sd / mean).toBeGreaterThan(0.7);
      expect(sd / mean).toBeLessThan(1.3);
    }
  });

  it('round-robin walks the targets in order', () => {
    const p = planSchedule({ everyMs: 1000, targets: ['a', 'b', 'c'], pick: 'round-robin', maxConcurrent: 1 }, { ...base, horizonMs: 5000 });
    expect(p.occurrences.map((o) => o.target)).toEqual(['a', 'b', 'c', 'a', 'b']);
  });

  it('maxConcurrent: an occurrence that would exceed it is skipped, and said so', () => {
    // 3 s faults every 1 s: with maxConcurrent 2 the third of every three is skipped.
    const p = planSchedule({ everyMs: 1000, pick: 'random', maxConcurrent: 2 }, { ...base, horizonMs: 6000, durationMs: 3000 });
    expect(p.occurrences.map((o) => o.atMs)).toEqual([0, 1000, 3000, 4000]);
    expect(p.skipped.map((s) => s.atMs)).toEqual([2000, 5000]);
    // A fault that ends by itself (no duration) never blocks the next.
    expect(planSchedule({ everyMs: 1000, pick: 'random', maxConcurrent: 1 }, { ...base, horizonMs: 6000 }).occurrences).toHaveLength(6);
  });

  it('until ends the schedule early; the occurrence cap is reported', () => {
    expect(planSchedule({ everyMs: 1000, pick: 'random', maxConcurrent: 1, untilMs: 3500 }, base).occurrences).toHaveLength(4);
    const capped = planSchedule({ everyMs: 1, pick: 'random', maxConcurrent: 1 }, { ...base, horizonMs: 1e9 });
    expect(capped.capped).toBe(true);
    expect(capped.occurrences).toHaveLength(10_000);
  });
});
