/**
 * Agent 0's admission: the start barrier times out naming who is missing, and
 * an agent whose clock is off by more than --max-skew is refused, by name.
 * Agents here run in this process (runAgent), with real sockets and workers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { countingServer, type TestServer } from '../helpers/servers.ts';
import { normalize } from '../../src/config/scenario.ts';
import { run } from '../../src/coordinator.ts';
import { Fleet } from '../../src/agents/fleet.ts';
import { runAgent, type AgentOutcome } from '../../src/agents/agent.ts';
import { EXIT } from '../../src/errors.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const scenario = (url: string) =>
  normalize({ target: url, requests: [{ path: '/' }], load: { profile: 'constant', rate: 100, duration: '2s' }, engine: { workers: 1, connections: 8 } });

describe('start barrier and clock check', () => {
  it('an agent that never comes: the barrier fails after its timeout, naming it; nothing is sent', async () => {
    server = await countingServer();
    const agents: Promise<AgentOutcome>[] = [];
    const t0 = performance.now();
    const r = await run(scenario(server.url), {
      agents: 3,
      stateDir: `.faultline/test-h16-barrier-${process.pid}`,
      makeEngine: (o, ctx) =>
        new Fleet(o, {
          agents: 3,
          listen: { host: '127.0.0.1', port: 0 },
          barrierMs: 6000,
          maxSkewMs: 50,
          // Only agent 1 joins.
          onListening: (port) => void agents.push(runAgent({ index: 1, agents: 3, coordinator: { host: '127.0.0.1', port }, joinTimeoutMs: 5000 })),
        }, ctx),
    });
    expect(r.outcome.exitCode).toBe(EXIT.aborted);
    // Agent 2 is named; agent 1 too if its workers were not up yet on a busy machine.
    expect(r.outcome.reason).toMatch(/^start barrier: [01] of 2 agents joined within 6 s \(missing: (agent 1 \([^)]*\), )?agent 2\)$/);
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(server.count()).toBe(0);
    // The agent that did join is told to stop and ends.
    const out = await agents[0];
    expect(out.exitCode).toBe(0);
  }, 30_000);

  it('an agent whose clock is 400 ms ahead is refused above --max-skew 50ms, by name and offset', async () => {
    server = await countingServer();
    let agent: Promise<AgentOutcome> | undefined;
    const r = await run(scenario(server.url), {
      agents: 2,
      stateDir: `.faultline/test-h16-skew-${process.pid}`,
      makeEngine: (o, ctx) =>
        new Fleet(o, {
          agents: 2,
          listen: { host: '127.0.0.1', port: 0 },
          barrierMs: 10_000,
          maxSkewMs: 50,
          onListening: (port) => {
            agent = runAgent({ index: 1, agents: 2, coordinator: { host: '127.0.0.1', port }, joinTimeoutMs: 5000, now: () => performance.timeOrigin + performance.now() + 400 });
          },
        }, ctx),
    });
    expect(r.outcome.exitCode).toBe(EXIT.aborted);
    expect(r.outcome.reason).toMatch(/agent 1 .*clock is (3\d\d|4\d\d)\.\d ms ahead of agent 0's .*50 ms/);
    const out = await agent!;
    expect(out.exitCode).toBe(3);
    expect(out.reason).toMatch(/refused/);
    expect(server.count()).toBe(0);
  }, 30_000);

  it('a small offset is measured and corrected: the run goes on and counts every request', async () => {
    server = await countingServer();
    let agent: Promise<AgentOutcome> | undefined;
    const r = await run(scenario(server.url), {
      agents: 2,
      stateDir: `.faultline/test-h16-offset-${process.pid}`,
      makeEngine: (o, ctx) =>
        new Fleet(o, {
          agents: 2,
          listen: { host: '127.0.0.1', port: 0 },
          barrierMs: 10_000,
          maxSkewMs: 50,
          onListening: (port) => {
            agent = runAgent({ index: 1, agents: 2, coordinator: { host: '127.0.0.1', port }, joinTimeoutMs: 5000, now: () => performance.timeOrigin + performance.now() - 20 });
          },
        }, ctx),
    });
    expect(r.outcome.exitCode, r.outcome.reason).toBe(EXIT.held);
    expect((await agent!).exitCode).toBe(0);
    const a1 = r.agents!.find((a) => a.index === 1)!;
    expect(a1.clockOffsetMs).toBeGreaterThan(-30);
    expect(a1.clockOffsetMs).toBeLessThan(-10);
    expect(server.count()).toBe(200);
    expect(r.timeline.windows.every((w) => !w.agentProblems)).toBe(true);
  }, 30_000);
});
