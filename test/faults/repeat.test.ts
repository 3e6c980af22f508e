import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { normalize } from '../../src/config/scenario.ts';
import type { ScenarioInput } from '../../src/config/schema.ts';
import { cli, runScenario } from '../helpers/run.ts';
import { countingServer, type TestServer } from '../helpers/servers.ts';

const base = (over: Partial<ScenarioInput> = {}): ScenarioInput => ({
  target: 'http://127.0.0.1:9',
  requests: [{ path: '/' }],
  load: { profile: 'constant', rate: 50, duration: '60s' },
  proxies: { a: { listen: '127.0.0.1:0', upstream: '127.0.0.1:9', mode: 'http' }, b: { listen: '127.0.0.1:0', upstream: '127.0.0.1:9', mode: 'http' } },
  ...over,
});

describe('repeating faults in a scenario', () => {
  it('every: becomes its occurrences, named and timed, targets picked from the seed; the same seed plans the same', () => {
    const input = base({ seed: 5, faults: [{ name: 'monkey', kind: 'http-error', targets: ['a', 'b'], every: '10s', at: '5s', duration: '2s' } as never] });
    const s = normalize(input);
    expect(s.faults.map((f) => [f.name, f.at])).toEqual([
      ['monkey #1', 5000], ['monkey #2', 15000], ['monkey #3', 25000], ['monkey #4', 35000], ['monkey #5', 45000], ['monkey #6', 55000],
    ]);
    expect(s.faults.every((f) => f.duration === 2000 && f.series?.name === 'monkey')).toBe(true);
    expect(new Set(s.faults.map((f) => f.target))).toEqual(new Set(['a', 'b']));
    expect(s.schedules).toHaveLength(1);
    expect(normalize(input).faults).toEqual(s.faults);
    const other = normalize({ ...input, seed: 6 }).faults.map((f) => f.target);
    // 6 picks of 2 targets: another seed gives another sequence (checked for this pair of seeds).
    expect(other).not.toEqual(s.faults.map((f) => f.target));
  });

  it('random: Poisson occurrences within the planned run only; other faults keep their place', () => {
    const s = normalize(base({ faults: [{ name: 'once', kind: 'http-error', target: 'a', at: '1s', duration: '1s' }, { name: 'poisson', kind: 'http-error', target: 'b', random: { mean: '5s' }, duration: '1s' } as never] }));
    expect(s.faults[0]!.name).toBe('once');
    const occ = s.faults.slice(1);
    expect(occ.length).toBeGreaterThan(3);
    for (const f of occ) expect(f.at!).toBeLessThan(60_000); // 60 s of load, no baseline (no hypothesis)
    expect(occ.map((f) => f.at)).toEqual([...occ.map((f) => f.at)].sort((x, y) => x! - y!));
  });

  it('bad repeat keys are usage errors with their path', () => {
    expect(() => normalize(base({ faults: [{ kind: 'http-error', target: 'a', every: '1s', random: { mean: '1s' } } as never] }))).toThrow(/every or random, not both/);
    expect(() => normalize(base({ faults: [{ kind: 'http-error', target: 'a', every: '1s', atLoad: 10 } as never] }))).toThrow(/use at, not atLoad/);
    expect(() => normalize(base({ faults: [{ kind: 'http-error', target: 'a', maxConcurrent: 2 } as never] }))).toThrow(/add every or random/);
    expect(() => normalize(base({ faults: [{ kind: 'http-error', targets: ['a', 'nope'], every: '1s' } as never] }))).toThrow(/faults\[0\]\.targets\[1\]: expected the name of a declared proxy/);
    expect(() => normalize(base({ faults: [{ kind: 'http-error', target: 'a', targets: ['b'], every: '1s' } as never] }))).toThrow(/target or targets/);
  });

  it('validate shows the plan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-repeat-'));
    const file = join(dir, 's.json');
    writeFileSync(file, JSON.stringify(base({ faults: [{ name: 'monkey', kind: 'http-error', target: 'a', every: '20s', duration: '1s' } as never] })));
    const r = await cli(['validate', file], { timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/http-error "monkey" repeats 3× within 60s: 0s a, 20s a, 40s a/);
  });
});

describe('repeating faults in a run', () => {
  let server: TestServer | undefined;
  afterEach(async () => server?.close());

  it('each occurrence starts on its planned time, lasts its duration, and hurts only while active', async () => {
    server = await countingServer();
    const port = await freePort();
    const r = await runScenario({
      target: `http://127.0.0.1:${port}`,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 200, duration: '4s' },
      baseline: false,
      proxies: { dep: { listen: `127.0.0.1:${port}`, upstream: `127.0.0.1:${server.port}`, mode: 'http' } },
      faults: [{ name: 'blink', kind: 'http-error', target: 'dep', every: '1s', at: '500ms', duration: '300ms' } as never],
    });
    // `at` counts from the start of the load.
    const t0 = r.timeline.events.find((e) => e.type === 'stage-start')!.t;
    const starts = r.timeline.events.filter((e) => e.type === 'fault-start');
    const stops = r.timeline.events.filter((e) => e.type === 'fault-stop');
    expect(starts.map((e) => (e as { fault: string }).fault)).toEqual(['blink #1', 'blink #2', 'blink #3', 'blink #4']);
    starts.forEach((e, k) => {
      // On the planned time, within the injector's tick and a busy machine's slack.
      expect(e.t - t0).toBeGreaterThanOrEqual(500 + 1000 * k - 5);
      expect(e.t - t0).toBeLessThan(500 + 1000 * k + 250);
      const stop = stops.find((x) => (x as { fault: string }).fault === (e as { fault: string }).fault)!;
      expect(stop.t - e.t).toBeGreaterThanOrEqual(295);
      expect(stop.t - e.t).toBeLessThan(300 + 250);
    });
    // 4 × 300 ms of 503s at 200 req/s ≈ 240 errors of ~800 requests: well away from none and from all.
    const errs = r.stages.reduce((a, s) => a + s.errorCount, 0);
    const reqs = r.stages.reduce((a, s) => a + s.requests, 0);
    expect(errs).toBeGreaterThan(0.15 * reqs);
    expect(errs).toBeLessThan(0.5 * reqs);
    // Every 503 came from the fault: the upstream saw exactly the rest.
    expect(server.count()).toBe(reqs - errs);
    // Each occurrence reports the effect it measured, and together they account for every 503.
    const effects = stops.map((e) => (e as { effect?: { values: Record<string, number>; noEffect: boolean; summary: string } }).effect!);
    expect(effects.every((x) => x && !x.noEffect && /^hit \d+ requests?/.test(x.summary))).toBe(true);
    expect(effects.reduce((a, x) => a + x.values.hits!, 0)).toBe(errs);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describe('time triggers count from the start of the load', () => {
  let server: TestServer | undefined;
  afterEach(async () => server?.close());

  it('a fault at 0 s (or with no trigger) never lands in the baseline', async () => {
    server = await countingServer();
    const port = await freePort();
    const r = await runScenario({
      target: `http://127.0.0.1:${port}`,
      requests: [{ path: '/' }],
      hypothesis: ['errors < 50%'],
      baseline: { rate: 100, duration: '1s' },
      load: { profile: 'constant', rate: 100, duration: '1500ms' },
      proxies: { dep: { listen: `127.0.0.1:${port}`, upstream: `127.0.0.1:${server.port}`, mode: 'http' } },
      faults: [
        { name: 'at zero', kind: 'http-delay', target: 'dep', delay: '1ms', at: '0s', duration: '200ms' },
        { name: 'no trigger', kind: 'http-delay', target: 'dep', delay: '1ms', duration: '200ms' },
      ],
    });
    const stages = r.timeline.events.filter((e) => e.type === 'stage-start');
    expect(stages).toHaveLength(2);
    const loadStart = stages[1]!.t;
    const starts = r.timeline.events.filter((e) => e.type === 'fault-start');
    expect(starts).toHaveLength(2);
    for (const e of starts) {
      expect(e.t).toBeGreaterThanOrEqual(loadStart);
      expect(e.t - loadStart).toBeLessThan(250);
    }
  });
});
