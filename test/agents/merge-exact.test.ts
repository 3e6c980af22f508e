/**
 * Exactness of the scale-out merge: values recorded by N agents × W workers,
 * each taking its segment of the arrivals (i ≡ k mod N), sent over the wire as
 * JSON and merged by agent 0, give — window by window, bucket for bucket — the
 * histogram of the same values recorded in one process. The "transport" is a
 * deterministic fake: arrival i's latency is a function of i.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Histogram } from 'hdr-histogram-js';
import { mergeAgentParts, type AgentShare } from '../../src/agents/fleet.ts';
import { subSegment, type Segment } from '../../src/engine/schedule.ts';
import type { WireWindow } from '../../src/engine/messages.ts';
import { clampUs, decode, encode, initHistograms, newHistogram } from '../../src/metrics/histogram.ts';

/** The fake transport: a heavy-tailed latency (µs) and an error now and then, fixed by the arrival's index. */
function outcome(i: number): { us: number; error: boolean } {
  let x = (i + 1) * 2654435761;
  x ^= x >>> 16;
  x = Math.imul(x, 0x45d9f3b) >>> 0;
  const u = (x % 1_000_000) / 1_000_000;
  return { us: clampUs(200 + 50_000 * Math.pow(u, 6) + (i % 13) * 37), error: i % 17 === 0 };
}

const PER_WINDOW = 997; // arrivals per window (a prime: segments get uneven shares)
const WINDOWS = 5;

/** One worker's windows: it records only its segment's arrivals, as a load worker's Recorder does. */
function workerWindows(seg: Segment): WireWindow[] {
  const out: WireWindow[] = [];
  for (let s = 0; s < WINDOWS; s++) {
    const lat = newHistogram();
    const svc = newHistogram();
    let requests = 0;
    let errors = 0;
    for (let i = s * PER_WINDOW; i < (s + 1) * PER_WINDOW; i++) {
      if (i % seg.count !== seg.index) continue;
      const o = outcome(i);
      lat.recordValue(o.us);
      svc.recordValue(Math.max(1, o.us - 100));
      requests++;
      if (o.error) errors++;
    }
    out.push({
      key: `0:${s}`,
      stage: 0,
      seq: s,
      start: 1_000_000 + s * 1000,
      end: 1_000_000 + (s + 1) * 1000,
      offered: requests,
      sent: requests,
      byName: { get: { requests, errors, byKind: errors ? { http_5xx: errors } : {}, examples: {}, latency: encode(lat), service: encode(svc) } },
      maxLagMs: 1,
      elu: 0.2,
      slipP99Ms: 0.5,
      backlog: 0,
      inFlight: 0,
    });
    lat.destroy();
    svc.destroy();
  }
  return out;
}

/** The JS histogram's bucket look-ups (decode() builds JS histograms; the shared type leaves them out). */
type Buckets = Histogram & { getCountAtValue(v: number): number; lowestEquivalentValue(v: number): number };

/** Every bucket of a, compared with b's: same counts at every recorded value, same total. */
function sameBuckets(a: Buckets, b: Buckets, values: number[]): void {
  expect(a.totalCount).toBe(b.totalCount);
  let sum = 0;
  for (const v of new Set(values.map((v) => a.lowestEquivalentValue(v)))) {
    expect(a.getCountAtValue(v), `bucket at ${v} µs`).toBe(b.getCountAtValue(v));
    sum += a.getCountAtValue(v);
  }
  // The buckets compared hold every count: there is nothing elsewhere.
  expect(sum).toBe(a.totalCount);
  expect(a.maxValue).toBe(b.maxValue);
  expect(a.minNonZeroValue).toBe(b.minNonZeroValue);
}

beforeAll(async () => {
  await initHistograms();
});

describe('the scale-out merge is exact', () => {
  for (const [agents, workers] of [
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 3],
  ]) {
    it(`${agents} agent(s) × ${workers} worker(s): every window equals, bucket for bucket, one process recording every value`, () => {
      // Each agent's workers' windows, through JSON as they cross the wire.
      const byAgent: WireWindow[][][] = [];
      for (let k = 0; k < agents; k++) {
        byAgent.push(Array.from({ length: workers }, (_, j) => JSON.parse(JSON.stringify(workerWindows(subSegment({ index: k, count: agents }, j, workers)))) as WireWindow[]));
      }
      const shares: AgentShare[] = Array.from({ length: agents }, (_, k) => ({ index: k, name: `agent ${k}`, workers, slots: 100, state: 'ready' }));
      for (let s = 0; s < WINDOWS; s++) {
        const parts = new Map<number, WireWindow[]>();
        for (let k = 0; k < agents; k++) parts.set(k, byAgent[k].map((w) => w[s]));
        const merged = mergeAgentParts(s, parts, shares, 'open', Infinity);
        // One process, every value of the window.
        const ref = newHistogram();
        const values: number[] = [];
        let errors = 0;
        for (let i = s * PER_WINDOW; i < (s + 1) * PER_WINDOW; i++) {
          const o = outcome(i);
          ref.recordValue(o.us);
          values.push(o.us);
          if (o.error) errors++;
        }
        const got = decode(merged.overall.latency) as Buckets;
        const want = decode(encode(ref)) as Buckets;
        sameBuckets(got, want, values);
        expect(encode(got)).toBe(encode(want));
        expect(merged.overall.requests).toBe(PER_WINDOW);
        expect(merged.overall.errors).toBe(errors);
        expect(merged.overall.byKind.http_5xx).toBe(errors);
        expect(merged.offered).toBe(PER_WINDOW);
        expect(merged.agentProblems).toBeUndefined();
        ref.destroy();
      }
    });
  }

  it('a missing share is named: dead when the agent was lost, stalled when it is only late', () => {
    const parts = new Map<number, WireWindow[]>();
    for (const k of [0, 2]) parts.set(k, [workerWindows(subSegment({ index: k, count: 3 }, 0, 1))[0]]);
    const shares: AgentShare[] = [0, 1, 2].map((k) => ({ index: k, name: `agent ${k}`, workers: 1, slots: 100, state: 'ready' }));
    const stalled = mergeAgentParts(0, parts, shares, 'open', 2_000_000);
    expect(stalled.agentProblems).toEqual([expect.objectContaining({ agent: 'agent 1', problem: 'stalled' })]);
    shares[1] = { ...shares[1], state: 'gone', goneAt: 1_000_500, goneReason: 'connection closed' };
    const dead = mergeAgentParts(0, parts, shares, 'open', 2_000_000);
    expect(dead.agentProblems).toEqual([expect.objectContaining({ agent: 'agent 1', problem: 'dead' })]);
    // What did arrive is still merged exactly (agents 0 and 2's arrivals, not a guess for agent 1's).
    expect(dead.overall.requests).toBe(Math.ceil(PER_WINDOW / 3) + Math.ceil((PER_WINDOW - 2) / 3));
  });

  it('one saturated agent is the generator limit, by name, even when the others idle', () => {
    const parts = new Map<number, WireWindow[]>();
    for (const k of [0, 1]) parts.set(k, [workerWindows(subSegment({ index: k, count: 2 }, 0, 1))[0]]);
    parts.set(1, [{ ...parts.get(1)![0], elu: 0.99, backlog: 200, slipP99Ms: 80 }]);
    const shares: AgentShare[] = [0, 1].map((k) => ({ index: k, name: `agent ${k}`, workers: 1, slots: 100, state: 'ready' }));
    const w = mergeAgentParts(0, parts, shares, 'open', Infinity);
    expect(w.generator.limited).toBe(true);
    expect(w.generator.reason).toMatch(/^agent 1: /);
    expect(w.agentProblems).toEqual([expect.objectContaining({ agent: 'agent 1', problem: 'generator-limited' })]);
  });
});
