import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import { once } from 'node:events';
import { loadScenarioFile } from '../../src/config/scenario.ts';
import { run } from '../../src/coordinator.ts';
import { parseDuration, parsePercent, parseRate, parseBytes, isLoopbackHost } from '../../src/config/units.ts';

describe('units are parsed once, at the edge', () => {
  it('durations, rates, percentages, sizes', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration(40)).toBe(40);
    expect(parseDuration('10 parsecs')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseRate('500')).toEqual({ rps: 500 });
    expect(parseRate('500rps')).toEqual({ rps: 500 });
    expect(parseRate('1.5x')).toEqual({ x: 1.5 });
    expect(parseRate('fast')).toBeUndefined();
    expect(parsePercent('1%')).toBe(0.01);
    expect(parsePercent(0.25)).toBe(0.25);
    expect(parsePercent('lots')).toBeUndefined();
    expect(parseBytes('64KB')).toBe(64_000);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('203.0.113.1')).toBe(false);
    expect(isLoopbackHost('example.com')).toBe(false);
  });
});

describe('YAML, JSON and TypeScript scenarios are equivalent', () => {
  it('normalise to the same scenario', async () => {
    const [y, j, t] = await Promise.all(['yaml', 'json', 'ts'].map((e) => loadScenarioFile(`test/fixtures/scenarios/same.${e}`)));
    for (const s of [j, t]) {
      expect(s.requests).toEqual(y.requests);
      expect(s.hypothesis).toEqual(y.hypothesis);
      expect(s.stop).toEqual(y.stop);
      expect(s.expectedPeak).toBe(400);
    }
    const stages = (sc: typeof y) => {
      const p = sc.makeProfile();
      const out = [];
      for (let st = p.next(); st; st = p.next()) out.push(st);
      return out;
    };
    expect(stages(j)).toEqual(stages(y));
    expect(stages(t)).toEqual(stages(y));
    // 0.25x .. 3x of 400 in 12 steps; a 10% baseline comes first because there is a hypothesis.
    expect(stages(y)[0].rateFrom).toBe(100);
    expect(stages(y)[11].rateFrom).toBe(1200);
    expect(y.baseline?.rateFrom).toBe(40);
    expect(y.requests[1]).toMatchObject({ method: 'POST', body: '{"sku":42}', headers: { 'content-type': 'application/json' } });
  });
});

describe('a typed .ts scenario with a request function', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('loads through tsx, resolves `faultline` to this package, and builds each request inside the worker', async () => {
    const paths: string[] = [];
    const ids = new Set<string>();
    server = http.createServer((req, res) => {
      paths.push(req.url!);
      if (req.headers['x-request-id']) ids.add(String(req.headers['x-request-id']));
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    process.env.FL_TARGET = `http://127.0.0.1:${port}`;
    const s = await loadScenarioFile('test/fixtures/scenarios/typed.ts');
    const r = await run(s);
    const dynamic = paths.filter((p) => p.startsWith('/item/'));
    expect(dynamic.length).toBeGreaterThan(40);
    expect(new Set(dynamic).size).toBe(dynamic.length); // a fresh id every time
    expect(ids.size).toBe(dynamic.length);
    expect(paths.filter((p) => p === '/static').length).toBeGreaterThan(40);
    expect(r.stages[0].byName.dynamic.requests).toBe(dynamic.length);
  });
});
