import { describe, it, expect, afterEach } from 'vitest';
import { countingServer, type TestServer } from '../helpers/servers.ts';
import { runScenario } from '../helpers/run.ts';
import { mergeEncoded } from '../../src/metrics/histogram.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('open-model rate accuracy', () => {
  it('delivers 2,000 req/s for 5 s within 1% of the planned count, and reports what the server counted', async () => {
    server = await countingServer();
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 2000, duration: '5s' },
      engine: { workers: 1 },
    });
    const planned = 2000 * 5;
    const seen = server.count();
    expect(Math.abs(seen - planned) / planned).toBeLessThan(0.01);
    const s = r.stages[0];
    expect(s.offeredRate).toBe(2000);
    // Every request the server saw was recorded, and nothing else.
    expect(s.requests).toBe(seen);
    const windowsTotal = r.timeline.windows.reduce((a, w) => a + w.overall.requests, 0);
    expect(windowsTotal).toBe(seen);
    // Achieved rate agrees with the server's count over the stage's measured time.
    expect(Math.abs(s.achievedRate - seen / 5) / (seen / 5)).toBeLessThan(0.02);
    expect(s.errorCount).toBe(0);
    expect(r.meta.model).toBe('open');
  });

  it('merges histograms from 2 workers to exactly the total request count', async () => {
    server = await countingServer();
    const r = await runScenario({
      target: server.url,
      requests: [
        { name: 'a', path: '/a', weight: 3 },
        { name: 'b', path: '/b', weight: 1 },
      ],
      load: { profile: 'constant', rate: 1000, duration: '2s' },
      engine: { workers: 2 },
    });
    const seen = server.count();
    const overall = mergeEncoded(r.timeline.windows.map((w) => w.overall.latency));
    expect(overall.totalCount).toBe(seen);
    const a = r.timeline.windows.reduce((x, w) => x + (w.byName.a?.requests ?? 0), 0);
    const b = r.timeline.windows.reduce((x, w) => x + (w.byName.b?.requests ?? 0), 0);
    expect(a + b).toBe(seen);
    // The weighted mix is exact up to one request per worker.
    expect(Math.abs(a - 3 * b)).toBeLessThanOrEqual(8);
    expect(r.meta.workers).toBe(2);
  });

  it('steps produce the planned offered rates, stage by stage', async () => {
    server = await countingServer();
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'steps', from: 200, to: 600, steps: 3, stepDuration: '1s' },
      engine: { workers: 1 },
    });
    expect(r.stages.map((s) => s.offeredRate)).toEqual([200, 400, 600]);
    for (const s of r.stages) {
      const offered = r.timeline.windows.filter((w) => w.stage === s.index).reduce((a, w) => a + w.offered, 0);
      expect(Math.abs(offered - s.offeredRate)).toBeLessThanOrEqual(1);
    }
    expect(Math.abs(server.count() - 1200)).toBeLessThanOrEqual(3);
  });

  it('a ramp offers the integral of its rate', async () => {
    server = await countingServer();
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'ramp', from: 100, to: 900, duration: '2s', segments: 2 },
      engine: { workers: 1 },
    });
    // (100 + 900) / 2 × 2 s = 1000 arrivals.
    expect(Math.abs(server.count() - 1000)).toBeLessThanOrEqual(3);
    expect(r.stages.map((s) => [s.rateFrom, s.rateTo])).toEqual([
      [100, 500],
      [500, 900],
    ]);
  });

  it('labels a closed-model run as closed', async () => {
    server = await countingServer();
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'closed', concurrency: 4, duration: '1s' },
      engine: { workers: 1 },
    });
    expect(r.meta.model).toBe('closed');
    expect(r.stages[0].model).toBe('closed');
    expect(r.stages[0].concurrency).toBe(4);
    expect(r.stages[0].requests).toBe(server.count());
    expect(r.stages[0].requests).toBeGreaterThan(100);
  });
});
