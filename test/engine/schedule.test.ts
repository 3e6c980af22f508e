import { describe, expect, it } from 'vitest';
import { arrivalTime, arrivalsBefore, concurrencyShare, segmentArrivals, segmentPhase, segmentRate, subSegment, WHOLE, type Segment } from '../../src/engine/schedule.ts';

/** Every arrival time of one segment's schedule, ms from the stage start. */
function times(seg: Segment, r0: number, r1: number, T: number): number[] {
  const a = segmentRate(seg, r0);
  const b = segmentRate(seg, r1);
  const n = arrivalsBefore(T, a, b, T, segmentPhase(seg));
  return Array.from({ length: n }, (_, k) => arrivalTime(k, a, b, T, segmentPhase(seg)));
}

describe('segments of the arrival schedule (agent k sends arrivals i ≡ k mod N)', () => {
  const stages = [
    [1000, 1000, 2000],
    [37, 37, 1000],
    [100, 900, 3000],
    [900, 50, 2500],
    [3, 3, 1000],
  ] as const;
  for (const [r0, r1, T] of stages) {
    it(`${r0}→${r1} req/s over ${T} ms: N agents × W workers send exactly the single sender's arrivals`, () => {
      const whole = times(WHOLE, r0, r1, T);
      for (const N of [1, 2, 3, 4, 7]) {
        for (const W of [1, 2, 3]) {
          const got: number[] = [];
          for (let k = 0; k < N; k++) {
            const agent = { index: k, count: N };
            let agentTotal = 0;
            for (let j = 0; j < W; j++) {
              const seg = subSegment(agent, j, W);
              const ts = times(seg, r0, r1, T);
              // Worker j of agent k sends arrival m of its segment at the whole schedule's arrival seg.index + m·seg.count.
              ts.forEach((t, m) => expect(t).toBeCloseTo(whole[seg.index + m * seg.count], 6));
              expect(ts.length).toBe(segmentArrivals(seg, whole.length));
              agentTotal += ts.length;
              got.push(...ts);
            }
            expect(agentTotal).toBe(segmentArrivals(agent, whole.length));
          }
          expect(got.length).toBe(whole.length);
          got.sort((a, b) => a - b);
          got.forEach((t, i) => expect(t).toBeCloseTo(whole[i], 6));
        }
      }
    });
  }

  it('closed model: concurrency split by index adds up to the whole', () => {
    for (const c of [1, 5, 16, 50])
      for (const N of [1, 2, 3, 4])
        for (const W of [1, 2, 3]) {
          let sum = 0;
          for (let k = 0; k < N; k++) for (let j = 0; j < W; j++) sum += concurrencyShare(subSegment({ index: k, count: N }, j, W), c);
          expect(sum).toBe(c);
        }
  });
});
