/**
 * The verdict survives scale-out: the same scenario against the capacity-limited
 * test server gives the same breaking point from 1 agent and from 3 (within the
 * steps' resolution), and a search distributed over 3 agents narrows to the
 * same bracket as from 1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { capacityServer, type TestServer } from '../helpers/servers.ts';
import { normalize } from '../../src/config/scenario.ts';
import type { ScenarioInput } from '../../src/config/schema.ts';
import { run } from '../../src/coordinator.ts';
import { localAgents } from '../../src/agents/local.ts';
import type { BreakingPoint } from '../../src/analysis/breaches.ts';
import type { SearchReport } from '../../src/profiles/search.ts';
import type { Result } from '../../src/result.ts';

// 20 slots each holding a request for 200 ms: capacity = 20 / 0.2 s = 100 req/s. Long service
// times and wide margins (hundreds of ms) keep the verdicts clear of scheduling noise on 2 shared
// cores, where several agents and the server compete for CPU.
const SLOTS = 20;
const SERVICE_MS = 200;
const CAPACITY = SLOTS / (SERVICE_MS / 1000);
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function withAgents(n: number, input: ScenarioInput): Promise<Result> {
  const local = localAgents({ agents: n, workers: 1 });
  try {
    return await run(normalize(input), { makeEngine: local.makeEngine, agents: n, stateDir: `.faultline/test-h16-bp-${process.pid}` });
  } finally {
    await local.close();
  }
}

const table = (r: Result) => JSON.stringify(r.stages.map((s) => [Math.round(s.offeredRate), Math.round(s.latency.p99)]));

describe('breaking point from 1 and from 3 agents', () => {
  it('steps: the same first failing level (±1 step), on the right side of the known capacity', async () => {
    const STEP = 25;
    const results: Result[] = [];
    for (const n of [1, 3]) {
      server = await capacityServer(SLOTS, SERVICE_MS);
      results.push(
        await withAgents(n, {
          target: server.url,
          requests: [{ path: '/' }],
          expectedPeak: CAPACITY,
          // 70, 95 below capacity; 120, 145 above (the queue grows 20 and 45 requests a second:
          // at 120 req/s the wait grows 200 ms a second and passes the 400 ms margin within 3 s).
          load: { profile: 'steps', from: 70, to: 145, increment: STEP, stepDuration: '3s' },
          baseline: false,
          hypothesis: ['p99 < 600ms'],
          minSamples: 10,
          engine: { workers: 1, connections: 64 },
        }),
      );
      await server.close();
      server = undefined;
    }
    const [one, three] = results.map((r) => r.breakingPoint as BreakingPoint);
    expect(one, table(results[0])).toBeTruthy();
    expect(three, table(results[1])).toBeTruthy();
    expect(Math.abs(one.firstFailing.rate - three.firstFailing.rate), `${table(results[0])} vs ${table(results[1])}`).toBeLessThanOrEqual(STEP);
    for (const bp of [one, three]) {
      expect(bp.firstFailing.rate).toBeGreaterThan(CAPACITY);
      expect(bp.lastPassing!.rate).toBeLessThan(CAPACITY);
    }
    // Every window had every agent's share: the verdict is over load that was sent.
    for (const r of results) expect(r.timeline.windows.every((w) => !w.agentProblems)).toBe(true);
    expect(results[1].agents!.map((a) => a.sent).every((s) => s > 0)).toBe(true);
  }, 120_000);

  it('search over 3 agents narrows to the same bracket as over 1', async () => {
    const reports: SearchReport[] = [];
    for (const n of [1, 3]) {
      server = await capacityServer(SLOTS, SERVICE_MS);
      const r = await withAgents(n, {
        target: server.url,
        requests: [{ path: '/' }],
        // The probes are 50, 75, 112.5, 93.75, 103.125 (then the bracket is within 10%). Over capacity the wait
        // grows g = (rate − 100)/100 s a second, and a window holds the requests that completed in it: one
        // completing at t waited L = (0.2 s + g·t)/(1 + g). At 103.125, L stays under 330 ms to 4.5 s; at 112.5
        // it passes 420 ms by 2.2 s, so the last three or more windows of a 4 s probe break a 420 ms threshold
        // (two in a row are needed). A 3 s probe at 450 ms left 112.5 with two windows barely over, and one run
        // in CI saw it hold.
        load: { profile: 'search', from: 50, to: 200, growth: 1.5, precision: '10%', probeDuration: '4s', warmup: '500ms', cooldown: '1s', budget: '80s' },
        baseline: false,
        hypothesis: ['p99 < 420ms'],
        window: '500ms',
        minSamples: 10,
        engine: { workers: 1, connections: 64 },
      });
      await server.close();
      server = undefined;
      const s = r.search as SearchReport;
      expect(s.ended, JSON.stringify(s.probes)).toBe('converged');
      reports.push(s);
    }
    const [a, b] = reports;
    for (const s of reports) {
      // Near the known capacity: the server's capacity is its timers', and on a loaded machine (2 shared
      // cores) a late timer holds a slot longer, so it is a band, not a point.
      expect(s.lastPassing!, JSON.stringify(s.probes)).toBeLessThanOrEqual(CAPACITY * 1.25);
      expect(s.firstFailing!, JSON.stringify(s.probes)).toBeGreaterThanOrEqual(CAPACITY * 0.75);
      expect((s.firstFailing! - s.lastPassing!) / s.lastPassing!).toBeLessThanOrEqual(0.1 + 1e-9);
    }
    // The same bracket (every probe is far from the threshold, so the same probes give the same verdicts).
    expect([b.lastPassing, b.firstFailing], `${JSON.stringify(a.probes)} vs ${JSON.stringify(b.probes)}`).toEqual([a.lastPassing, a.firstFailing]);
  }, 150_000);
});
