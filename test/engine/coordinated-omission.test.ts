import { describe, it, expect, afterEach } from 'vitest';
import { processServer, type TestServer } from '../helpers/servers.ts';
import { runScenario } from '../helpers/run.ts';

let server: (TestServer & { pid: number }) | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('coordinated omission', () => {
  it('corrected p99 reflects a 1 s stall of the server; service-time p99 does not', async () => {
    server = await processServer();
    const rate = 500;
    const durationS = 6;
    const stallMs = 1000;
    const pid = server.pid;
    // SIGSTOP the server 2 s into the run, SIGCONT it 1 s later.
    const stop = setTimeout(() => process.kill(pid, 'SIGSTOP'), 2000);
    const cont = setTimeout(() => process.kill(pid, 'SIGCONT'), 2000 + stallMs);
    try {
      const r = await runScenario({
        target: server.url,
        requests: [{ path: '/' }],
        load: { profile: 'constant', rate, duration: `${durationS}s` },
        // Few connections, as wrk2 uses: arrivals during the stall wait in the generator's
        // backlog, so only the requests already sent see the stall in their service time.
        engine: { workers: 1, connections: 8 },
      });
      const s = r.stages[0];
      // Analytic expectation: a sixth of the requests (those arriving during the 1 s stall)
      // wait a uniform share of it, so the top 1% of all requests are the top 6% of the
      // stalled ones: corrected p99 ≈ 0.94 × 1000 ms (plus the time to drain the backlog).
      const stalledShare = stallMs / 1000 / durationS;
      const expectedP99 = stallMs * (1 - 0.01 / stalledShare);
      expect(expectedP99).toBeCloseTo(940, 0);
      expect(s.latency.p99).toBeGreaterThan(expectedP99 * 0.85);
      expect(s.latency.p99).toBeLessThan(expectedP99 * 1.25);
      // p90 sits outside the stalled sixth's upper part: 40% of the way into it → ≈ 400 ms.
      expect(s.latency.p90).toBeGreaterThan(250);
      expect(s.latency.p90).toBeLessThan(600);
      // Service time: only the 8 requests on the wire during the stall saw it (0.3% of all).
      expect(s.serviceTime.p99).toBeLessThan(100);
      expect(s.serviceTime.max).toBeGreaterThan(stallMs * 0.8);
      expect(s.errorCount).toBe(0);
      expect(Math.abs(s.requests - rate * durationS)).toBeLessThanOrEqual(5);
    } finally {
      clearTimeout(stop);
      clearTimeout(cont);
      process.kill(pid, 'SIGCONT');
    }
  });
});
