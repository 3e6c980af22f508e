/**
 * Scale-out on one machine: `run --agents N` as the library runs it (agent 0 in
 * this process, agents 1…N−1 as real child processes of `faultline agent`),
 * against real servers on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { normalize } from '../../src/config/scenario.ts';
import type { ScenarioInput } from '../../src/config/schema.ts';
import { run, type RunOptions } from '../../src/coordinator.ts';
import { localAgents } from '../../src/agents/local.ts';
import { segmentArrivals } from '../../src/engine/schedule.ts';
import { EXIT } from '../../src/errors.ts';
import type { Result } from '../../src/result.ts';

/** Counts requests, stamps each arrival, answers `status()`. */
async function stampingServer(status: () => number = () => 200) {
  const arrivals: number[] = [];
  const server = http.createServer((req, res) => {
    arrivals.push(performance.timeOrigin + performance.now());
    req.resume();
    res.writeHead(status());
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    close: () => new Promise<void>((r) => server.close(() => r()).closeAllConnections()),
  };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function runAgents(n: number, input: ScenarioInput, onWindow?: RunOptions['onWindow'], pidsSeen?: (pids: number[]) => void): Promise<Result> {
  const local = localAgents({ agents: n, workers: 1 });
  try {
    return await run(normalize(input), {
      makeEngine: local.makeEngine,
      agents: n,
      onWindow: (w, v, c) => {
        pidsSeen?.(local.pids());
        onWindow?.(w, v, c);
      },
      stateDir: `.faultline/test-h16-agents-${process.pid}`,
    });
  } finally {
    await local.close();
  }
}

describe('N local agents against a counting server', () => {
  for (const n of [1, 2, 4]) {
    it(`${n} agent(s): the server counts the planned requests, each agent sent its segment, the merged count is the agents' sum`, async () => {
      const srv = await stampingServer();
      cleanup.push(srv.close);
      const rate = 300;
      const durationMs = 2000;
      const planned = (rate * durationMs) / 1000;
      const r = await runAgents(n, {
        target: srv.url,
        requests: [{ path: '/' }],
        load: { profile: 'constant', rate, duration: `${durationMs}ms` },
        engine: { workers: 1, connections: 64 },
      });
      expect(r.outcome.exitCode, r.outcome.reason).toBe(EXIT.held);
      // Ground truth: what the server saw (within 1% of the plan; in practice exact).
      expect(Math.abs(srv.arrivals.length - planned)).toBeLessThanOrEqual(planned * 0.01);
      const merged = r.timeline.windows.reduce((a, w) => a + w.overall.requests, 0);
      const agents = r.agents!;
      expect(agents).toHaveLength(n);
      expect(merged).toBe(agents.reduce((a, x) => a + x.requests, 0));
      expect(merged).toBe(srv.arrivals.length);
      // Agent k sent exactly arrivals i ≡ k (mod n) of the schedule.
      agents.forEach((a) => expect(a.sent, a.name).toBe(segmentArrivals({ index: a.index, count: n }, planned)));
      expect(r.meta.agents).toBe(n);
      for (const w of r.timeline.windows) expect(w.agentProblems).toBeUndefined();
      expect(r.agents!.every((a) => a.windowsMissing === 0 && a.lateRequests === 0)).toBe(true);
    }, 60_000);
  }
});

describe('an agent that dies', () => {
  it('SIGKILL of one agent mid-run: its windows are inconclusive, by name, and the run exits 5', async () => {
    const srv = await stampingServer();
    cleanup.push(srv.close);
    let pids: number[] = [];
    let killedAt: number | undefined;
    const r = await runAgents(
      3,
      {
        target: srv.url,
        requests: [{ path: '/' }],
        load: { profile: 'constant', rate: 300, duration: '6s' },
        hypothesis: ['p99 < 2s'],
        baseline: false,
        minSamples: 10,
        engine: { workers: 1, connections: 64 },
      },
      (w) => {
        // After the second window, kill agent 2 (a real process, by its pid).
        if (w.index === 1 && killedAt === undefined) {
          killedAt = performance.timeOrigin + performance.now();
          process.kill(pids[1], 'SIGKILL');
        }
      },
      (p) => (pids = p),
    );
    expect(killedAt).toBeDefined();
    expect(r.outcome.exitCode, r.outcome.reason).toBe(EXIT.inconclusive);
    expect(r.outcome.status).toBe('inconclusive');
    expect(r.outcome.reason).toMatch(/agent 2 .*dead/);
    const verdicts = (r.hypothesis as { verdicts: { window: number; status: string }[] }).verdicts;
    const hit = r.timeline.windows.filter((w) => w.agentProblems?.some((p) => p.agent.startsWith('agent 2') && p.problem === 'dead'));
    expect(hit.length).toBeGreaterThanOrEqual(3);
    for (const w of hit) expect(verdicts[w.index].status).toBe('inconclusive');
    // Windows before the kill had every agent's share, and were judged.
    expect(r.timeline.windows[0].agentProblems).toBeUndefined();
    expect(verdicts[0].status).toBe('pass');
    // Never a verdict over load that was not sent: no breaking point, no "held".
    expect(r.breakingPoint).toBeNull();
    const a2 = r.agents!.find((a) => a.index === 2)!;
    expect(a2.lost).toBeDefined();
    expect(a2.windowsMissing).toBe(hit.length);
    // The two live agents went on: the server got their shares of the whole 6 s.
    expect(srv.arrivals.length).toBeGreaterThan(1800 * 0.6);
  }, 90_000);
});

describe('an agent that stalls', () => {
  it('SIGSTOP of one agent: windows go on without its share after the stall allowance, marked stalled by name; exit 5', async () => {
    const srv = await stampingServer();
    cleanup.push(srv.close);
    let pids: number[] = [];
    let stopped: number | undefined;
    cleanup.push(async () => {
      if (stopped !== undefined) {
        try {
          process.kill(stopped, 'SIGCONT');
        } catch {}
      }
    });
    const r = await runAgents(
      3,
      {
        target: srv.url,
        requests: [{ path: '/' }],
        load: { profile: 'constant', rate: 300, duration: '6s' },
        hypothesis: ['p99 < 2s'],
        baseline: false,
        minSamples: 10,
        engine: { workers: 1, connections: 64 },
      },
      (w) => {
        if (w.index === 1 && stopped === undefined) {
          stopped = pids[0];
          process.kill(stopped, 'SIGSTOP');
        }
      },
      (p) => (pids = p),
    );
    expect(stopped).toBeDefined();
    expect(r.outcome.exitCode, r.outcome.reason).toBe(EXIT.inconclusive);
    const hit = r.timeline.windows.filter((w) => w.agentProblems?.some((p) => p.agent.startsWith('agent 1') && p.problem === 'stalled'));
    expect(hit.length, JSON.stringify(r.timeline.windows.map((w) => w.agentProblems))).toBeGreaterThanOrEqual(2);
    expect(r.outcome.reason).toMatch(/agent 1 .*stalled/);
    // The windows kept coming while it was stopped: the run ended on time, not when the agent woke.
    expect(r.timeline.windows.length).toBeGreaterThanOrEqual(6);
  }, 90_000);
});

describe('stopping', () => {
  it('a stop condition on agent 0 stops every agent within 2 s', async () => {
    let failing = false;
    const srv = await stampingServer(() => (failing ? 500 : 200));
    cleanup.push(srv.close);
    let abortAt: number | undefined;
    let failFrom: number | undefined;
    const local = localAgents({ agents: 3, workers: 1 });
    let r: Result;
    try {
      r = await run(
        normalize({
          target: srv.url,
          requests: [{ path: '/' }],
          load: { profile: 'constant', rate: 300, duration: '30s' },
          stop: ['errors > 50% for 1s'],
          engine: { workers: 1, connections: 64 },
        }),
        {
          makeEngine: local.makeEngine,
          agents: 3,
          // Every agent is sending: from the third window on, the server answers 500.
          onWindow: (w) => {
            if (w.index === 1 && failFrom === undefined) {
              failing = true;
              failFrom = performance.timeOrigin + performance.now();
            }
          },
          onEvent: (e) => {
            if (e.type === 'abort') abortAt = e.t;
          },
          stateDir: `.faultline/test-h16-stop-${process.pid}`,
        },
      );
    } finally {
      await local.close();
    }
    expect(r.outcome.exitCode).toBe(EXIT.aborted);
    expect(r.outcome.reason).toMatch(/stop condition/);
    expect(abortAt).toBeDefined();
    // The condition (1 s of errors) was met within a few windows of the failure, long before the 30 s end.
    expect(abortAt! - failFrom!).toBeLessThan(5000);
    const last = Math.max(...srv.arrivals);
    // Every agent's last request reached the server within 2 s of the stop.
    expect(last - abortAt!).toBeLessThan(2000);
    // And all three agents were sending while failing (the stop did not just catch an idle fleet).
    expect(r.agents!.every((a) => a.sent > 0)).toBe(true);
  }, 90_000);
});
