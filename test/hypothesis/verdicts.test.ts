import { describe, it, expect, afterEach } from 'vitest';
import { countingServer, hiccupServer, type TestServer } from '../helpers/servers.ts';
import { runScenario } from '../helpers/run.ts';
import type { Breach } from '../../src/analysis/breaches.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('window verdicts', () => {
  it('a single slow window is a blip, not a break', async () => {
    // Responses are delayed 150 ms for 0.2 s well inside the second 1 s window of a 4 s run
    // (1.3–1.5 s after the first request; the delayed answers land by 1.65 s), sustain 2.
    server = await hiccupServer(1300, 1500, 150);
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 200, duration: '4s' },
      baseline: false,
      hypothesis: ['p99 < 100ms'],
      engine: { workers: 1 },
    });
    const breaches = r.breaches as Breach[];
    expect(breaches.length).toBeGreaterThanOrEqual(1);
    expect(breaches.every((b) => !b.sustained), JSON.stringify(breaches.map((b) => [b.startWindow, b.windows, b.worstValue]))).toBe(true);
    expect(breaches[0].worstValue).toBeGreaterThan(100);
    expect(r.breakingPoint).toBeNull();
    expect(r.outcome.exitCode).toBe(0);
  });

  it('a window with too few samples is not a pass', async () => {
    server = await countingServer();
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 5, duration: '2s' },
      baseline: false,
      hypothesis: ['p99 < 1s'],
      minSamples: 20,
      engine: { workers: 1 },
    });
    const verdicts = (r.hypothesis as { verdicts: { status: string }[] }).verdicts;
    expect(verdicts.length).toBeGreaterThanOrEqual(2);
    expect(verdicts.every((v) => v.status === 'inconclusive')).toBe(true);
    // Inconclusive, never a pass and never a fail: exit 5, naming the clause.
    expect(r.outcome.exitCode).toBe(5);
    expect(r.outcome.reason).toBe('inconclusive: p99 < 1s never judged: no window had 20 requests due');
  });

  it('a scoped clause judges only its request name', async () => {
    server = await hiccupServer(0, 0, 0);
    const r = await runScenario({
      target: server.url,
      requests: [
        { name: 'a', path: '/a' },
        { name: 'b', path: '/b' },
      ],
      load: { profile: 'constant', rate: 100, duration: '1s' },
      baseline: false,
      hypothesis: ['a.p99 < 1s', 'b.errors < 1%'],
      engine: { workers: 1 },
    });
    const v = (r.hypothesis as { verdicts: { clauses: { samples: number }[] }[] }).verdicts[0];
    // Each clause counted only its own request name's samples (about half of 100 each).
    expect(v.clauses[0].samples).toBeGreaterThan(35);
    expect(v.clauses[0].samples).toBeLessThan(65);
  });
});
