/**
 * Attribution on real sockets: a server with a known capacity (4 slots × 20 ms
 * = 200 req/s) is pushed past it with no fault active, and a fault comes only
 * after the breach began (on a proxy the load does not even use). The breach
 * belongs to load; the fault is not blamed for it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { capacityServer, countingServer, type TestServer } from '../helpers/servers.ts';
import { runScenario } from '../helpers/run.ts';
import { freePort } from './twoRoutes.ts';
import type { Result } from '../../src/result.ts';
import { schemaErrors } from './schema.ts';
import { prepare } from '../../src/report/index.ts';
import { junitXml } from '../../src/report/junit.ts';
import { renderReport } from '../../src/report/terminal.ts';
import { paint } from '../../src/report/format.ts';
import { parseXml, findAll } from './xml.ts';

let server: TestServer;
let idle: TestServer;
let result: Result;

beforeAll(async () => {
  server = await capacityServer(4, 20);
  idle = await countingServer();
  const proxyPort = await freePort();
  result = await runScenario({
    name: 'over capacity, then a fault',
    target: server.url,
    requests: [{ name: 'work', path: '/' }],
    // 100 req/s is well within capacity; 500 req/s is far past it.
    load: { profile: 'steps', from: 100, to: 500, steps: 2, stepDuration: '5s' },
    baseline: false,
    // Far above what even an overloaded 2-core box adds at 100 req/s; the overload at
    // 500 req/s queues 300 requests a second, past 1 s of waiting within two windows.
    hypothesis: ['p99 < 1s'],
    proxies: { unused: { listen: `127.0.0.1:${proxyPort}`, upstream: `127.0.0.1:${idle.port}` } },
    // Fires 9 s in, 4 s after the overload began: the windows before it are the load's own.
    faults: [{ name: 'late latency', kind: 'latency', target: 'unused', latency: '200ms', at: '9s', duration: '500ms' }],
    engine: { workers: 1, timeout: '5s' },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await idle?.close();
});

describe('attribution', () => {
  it('a load-only breach is attributed to load, at the level where it began', () => {
    const sustained = result.breaches!.filter((b) => b.sustained);
    expect(sustained.length, JSON.stringify(result.breaches)).toBeGreaterThanOrEqual(1);
    const first = sustained[0];
    expect(first.attribution).toBe('load');
    expect(first.faults).toEqual([]);
    expect(first.offeredRate).toBe(500);
    expect(first.stage).toBe(1);
  });

  it('a breach that starts before a fault is not blamed on it', () => {
    const f = result.faults!.find((x) => x.fault === 'late latency')!;
    expect(f).toBeDefined();
    const first = result.breaches!.find((b) => b.sustained)!;
    expect(first.start).toBeLessThan(f.start);
    expect(f.breaches.filter((i) => result.breaches![i].sustained)).toEqual([]);
    expect(f.preexisting.length).toBeGreaterThanOrEqual(1);
    expect(f.impact?.sustained).not.toBe(true);
    // It did not hold during the fault (load had broken it already), and says so.
    expect(f.held).toBe(false);
  });

  it('the result validates against the schema', () => {
    expect(schemaErrors(JSON.parse(JSON.stringify(result)))).toEqual([]);
  });
});

describe('reports of a load breach', () => {
  it('JUnit: the clause fails with the load level and the measured value; the fault is not blamed', () => {
    // Judged as if the generator had kept up: on a busy 2-core box its own health
    // checks may flag a stage, and that (the breaking point's rules) is not this test's subject.
    const judged = structuredClone(result);
    for (const w of judged.timeline.windows) w.generator.limited = false;
    const xmlText = junitXml(prepare(judged));
    const doc = parseXml(xmlText);
    const cases = findAll(doc, 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(['p99 < 1s', 'hypothesis held during late latency']);
    const clause = findAll(cases[0], 'failure')[0];
    expect(clause, `${xmlText}\n${JSON.stringify(judged.hypothesis)}\n${JSON.stringify(judged.breaches)}`).toBeDefined();
    expect(clause.attrs.message).toMatch(/^broke at 500 req\/s: p99 [\d.]+(ms|s) ≥ 1\.00s; last passing 100 req\/s$/);
    expect(clause.text).toMatch(/first failing level: 500 req\/s \(stage 1, /);
    const fault = findAll(cases[1], 'failure')[0];
    expect(fault.attrs.type).toBe('load');
    expect(fault.attrs.message).toMatch(/already broken by load when late latency began.*not blamed on the fault/);
  });

  it('terminal: the fault row says it was load, the breach row says load', () => {
    const text = renderReport(prepare(result), paint(undefined));
    const row = text.split('\n').find((l) => l.startsWith('late latency (latency → unused)'))!;
    expect(row).toMatch(/none of its own: already broken by load/);
    expect(row).toMatch(/no \(load\)/);
    expect(text).toMatch(/^Faults: none broke the hypothesis; it was already broken by load during late latency\.$/m);
    expect(text).toMatch(/^p99 < 1s\s.*\s500 req\/s\s.*load$/m);
  });

  it('terminal: colours on a TTY, plain without one or with NO_COLOR', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const r = prepare(result);
    const saved = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      expect(renderReport(r, paint(tty))).toMatch(/\x1b\[/);
      expect(renderReport(r, paint(tty, true))).not.toMatch(/\x1b\[/);
      expect(renderReport(r, paint({ isTTY: false } as NodeJS.WriteStream))).not.toMatch(/\x1b\[/);
      process.env.NO_COLOR = '1';
      expect(renderReport(r, paint(tty))).not.toMatch(/\x1b\[/);
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });
});
