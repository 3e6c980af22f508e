/**
 * Acceptance on real sockets: a run with a known injected latency fault on a
 * dependency that only one request name touches. `/slow` calls the dependency
 * through faultline's proxy; `/fast` answers from memory. The fault adds 600 ms
 * from 3 s to 6 s into the run. Everything below reads what that one CLI run
 * printed and wrote.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { cli, type CliResult } from '../helpers/run.ts';
import { twoRoutes, freePort, type TwoRoutes } from './twoRoutes.ts';
import { schemaErrors } from './schema.ts';
import { parseXml, findAll } from './xml.ts';
import type { Result } from '../../src/result.ts';
import { compareResults, DEFAULT_THRESHOLDS } from '../../src/report/compare.ts';

let sys: TwoRoutes;
let dir: string;
let runOut: CliResult;
let result: Result;
const files = (n: string) => join(dir, n);

beforeAll(async () => {
  sys = await twoRoutes();
  const proxyPort = await freePort();
  sys.via(proxyPort);
  dir = await mkdtemp(join(tmpdir(), 'faultline-acceptance-'));
  const scenario = {
    name: 'two routes, one slow dependency',
    target: sys.url,
    requests: [
      { name: 'slow', path: '/slow' },
      { name: 'fast', path: '/fast' },
    ],
    load: { profile: 'constant', rate: 100, duration: '10s' },
    baseline: false,
    // Well above what a busy 2-core box adds by itself (its event loop can lag ~0.3 s
    // when every core is taken), well below the fault's 600 ms.
    hypothesis: ['p99 < 400ms'],
    proxies: { dep: { listen: `127.0.0.1:${proxyPort}`, upstream: `127.0.0.1:${sys.depPort}` } },
    faults: [{ name: 'dep latency', kind: 'latency', target: 'dep', latency: '600ms', at: '3s', duration: '3s' }],
    engine: { workers: 1 },
  };
  await writeFile(files('scenario.json'), JSON.stringify(scenario));
  runOut = await cli(['run', files('scenario.json'), '--json', files('r.json'), '--html', files('r.html'), '--junit', files('r.xml'), '--hdr-log', files('r.hlog')], { timeoutMs: 60_000 });
  result = JSON.parse(await readFile(files('r.json'), 'utf8'));
}, 90_000);

afterAll(async () => {
  await sys?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a run with a known latency fault', () => {
  it('ran and wrote every file', () => {
    expect(runOut.stderr).not.toMatch(/could not write|internal error/);
    expect([0, 1]).toContain(runOut.code);
    for (const f of ['r.json', 'r.html', 'r.xml', 'r.hlog']) expect(runOut.stdout).toContain(`wrote ${files(f)}`);
  });

  it('time to impact is within one window of the truth', () => {
    expect(result.faults).toHaveLength(1);
    const f = result.faults![0];
    const start = result.timeline.events.find((e) => e.type === 'fault-start')!;
    expect(f.start).toBe(start.t);
    // The proxy delays every byte from the fault's start: the truth is "at once".
    expect(f.timeToImpactMs).toBeDefined();
    expect(f.timeToImpactMs!).toBeGreaterThanOrEqual(0);
    expect(f.timeToImpactMs!).toBeLessThanOrEqual(result.timeline.tickMs);
    // Started about 3 s into the load (time triggers count from the load's start), lasted about 3 s.
    const loadStart = result.timeline.events.find((e) => e.type === 'stage-start')!.t;
    expect(f.start - loadStart).toBeGreaterThan(2900);
    expect(f.start - loadStart).toBeLessThan(3600);
    expect(f.end - f.start).toBeGreaterThan(2900);
  });

  it('attributes the breach to the fault', () => {
    const sustained = result.breaches!.filter((b) => b.sustained);
    expect(sustained.length).toBeGreaterThanOrEqual(1);
    for (const b of sustained) {
      expect(b.attribution).not.toBe('load');
      expect(b.faults).toEqual(['dep latency']);
    }
    const f = result.faults![0];
    expect(f.held).toBe(false);
    expect(f.impact).toMatchObject({ clause: 'p99 < 400ms', sustained: true });
    expect(f.impact!.worst).toBeGreaterThan(500);
    expect(f.metrics.during!.p99).toBeGreaterThan(500);
    expect(f.metrics.before!.p99).toBeLessThan(400);
    // No breaking point: the only breach came with the fault.
    expect(result.breakingPoint).toBeNull();
  });

  it('reports the request name that does not touch the dependency as unaffected', () => {
    const r = result.faults![0].blastRadius;
    expect(r.affected).toEqual(['slow']);
    expect(r.unaffected).toEqual(['fast']);
    expect(result.faults![0].byName.fast.during!.p99).toBeLessThan(400);
    expect(result.faults![0].byName.slow.during!.p50).toBeGreaterThan(500);
  });

  it('reports time to recovery', () => {
    const f = result.faults![0];
    expect(f.recovery).toBe('recovered');
    expect(f.timeToRecoveryMs).toBeDefined();
    // Delayed requests drain within 600 ms of the end: recovery within two windows.
    expect(f.timeToRecoveryMs!).toBeLessThanOrEqual(2 * result.timeline.tickMs);
    expect(f.metrics.after!.p99).toBeLessThan(400);
  });

  it('the JSON validates against schema/result.schema.json', () => {
    expect(schemaErrors(result)).toEqual([]);
    // And the schema is not vacuous: a broken result fails it.
    const broken = structuredClone(result) as unknown as Record<string, unknown>;
    (broken.faults as Record<string, unknown>[])[0].recovery = 'maybe';
    delete broken.timeline;
    expect(schemaErrors(broken).length).toBeGreaterThanOrEqual(2);
  });
});

describe('the terminal report (structure, not numbers)', () => {
  const lines = () => runOut.stdout.split('\n');
  const at = (re: RegExp) => lines().findIndex((l) => re.test(l));

  it('is plain without a TTY', () => {
    expect(runOut.stdout).not.toMatch(/\x1b\[/);
  });

  it('puts the verdict first, then stages, faults, breaches, files and the exit code', () => {
    const header = at(/^faultline \S+ — two routes, one slow dependency → http:\/\/127\.0\.0\.1:\d+$/);
    // The verdict: a sentence about the hypothesis (or, on a box too busy to keep the schedule, about the generator).
    const verdict = at(/^(Hypothesis |The generator ran out first)/);
    const faultLine = at(/^Faults: 1 of 1 broke the hypothesis: dep latency\.$/);
    const stages = at(/^#\s+stage\s+offered\/s\s+achieved\/s\s+requests\s+errors\s+p50\s+p90\s+p99\s+p99\.9\s+max\s+svc p99$/);
    const faults = at(/^Faults$/);
    const faultHead = at(/^fault\s+when\s+load at start\s+impact\s+time to impact\s+time to recovery\s+held\?\s+blast radius$/);
    const faultRow = at(/^dep latency \(latency → dep\)\s/);
    const breaches = at(/^Breaches$/);
    const wrote = at(/^wrote /);
    const exit = at(/^exit \d: /);
    const order = [header, verdict, faultLine, stages, faults, faultHead, faultRow, breaches, wrote, exit];
    expect(order.every((i) => i >= 0), `sections found: ${order.join(',')}\n${runOut.stdout}`).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The exit line is the last thing printed.
    expect(exit).toBe(lines().map((l, i) => (l ? i : -1)).filter((i) => i >= 0).pop());
  });

  it('the fault row says what broke, how fast, and which request names', () => {
    const row = lines().find((l) => l.startsWith('dep latency (latency → dep)'))!;
    expect(row).toMatch(/100 req\/s/);
    expect(row).toMatch(/p99 \S+ → \S+ ≥ 400ms/);
    expect(row).toMatch(/\s\d+\.\d\ds\s/); // time to impact and recovery in seconds
    expect(row).toMatch(/\sNO\s/);
    expect(row).toMatch(/slow ✗ fast ✓$/);
    const breach = lines()[lines().findIndex((l) => l === 'Breaches') + 2];
    expect(breach).toMatch(/^p99 < 400ms\s.*fault: dep latency$/);
  });
});

describe('files', () => {
  it('JUnit: a test case per hypothesis clause and per fault, the fault failed with its load level and value', async () => {
    const doc = parseXml(await readFile(files('r.xml'), 'utf8'));
    expect(doc.name).toBe('testsuites');
    const cases = findAll(doc, 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(['p99 < 400ms', 'hypothesis held during dep latency']);
    const [clause, fault] = cases;
    // The fault is not declared mayBreak: the clause fails because of it, as the exit code says.
    expect(findAll(clause, 'failure')[0].attrs).toMatchObject({ type: 'fault', message: 'broke under "dep latency" (not declared mayBreak)' });
    expect(runOut.code).toBe(1);
    const failure = findAll(fault, 'failure')[0];
    expect(failure.attrs.message).toMatch(/^broke under dep latency \(latency\) at 100 req\/s: p99 \S+ → \S+ ≥ 400ms/);
    expect(failure.attrs.message).toMatch(/time to impact \d+\.\d+s/);
    expect(failure.attrs.message).toMatch(/affected: slow/);
    expect(findAll(doc, 'testsuite')[0].attrs).toMatchObject({ tests: '2', failures: '2', errors: '0' });
  });

  it('HDR log: HdrHistogram’s HistogramLogReader reads back every window, overall and per request name', async () => {
    const text = await readFile(files('r.hlog'), 'utf8');
    expect(text).toMatch(/^#\[Histogram log format version 1\.3\]$/m);
    expect(text).toMatch(/^#\[StartTime: \d+\.\d{3} \(seconds since epoch\), /m);
    expect(text).toMatch(/^"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"$/m);
    expect(hdr.listTags(text).sort()).toEqual(['NO TAG', 'fast', 'slow']);
    const reader = new hdr.HistogramLogReader(text);
    const seen: { tag: string | undefined; count: number; start: number; max: number }[] = [];
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) seen.push({ tag: h.tag, count: h.totalCount, start: h.startTimeStampMsec, max: h.maxValue });
    const W = result.timeline.windows;
    const overall = seen.filter((s) => s.tag === 'NO TAG');
    expect(overall.map((s) => s.count)).toEqual(W.map((w) => w.overall.requests));
    expect(seen.filter((s) => s.tag === 'slow').map((s) => s.count)).toEqual(W.map((w) => w.byName.slow?.requests ?? 0));
    // Absolute times survive the round trip (base time + offset), to the millisecond.
    overall.forEach((s, i) => expect(Math.abs(s.start - W[i].start)).toBeLessThan(1.5));
    // Values are microseconds: a window under the fault held ~600 ms latencies.
    expect(Math.max(...overall.map((s) => s.max))).toBeGreaterThan(500_000);
  });

  it('HTML: one self-contained file with the charts’ data, the tables, and no external resource', async () => {
    const html = await readFile(files('r.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('var uPlot=');
    for (const id of ['chart-rate', 'chart-latency', 'chart-errors', 'chart-spectrum']) expect(html).toContain(`id="${id}"`);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toContain('dep latency');
    expect(html).toMatch(/<h2>Faults<\/h2>/);
  });
});

describe('`faultline report` on the saved result', () => {
  it('reproduces the same report and the same exit code', async () => {
    const again = await cli(['report', files('r.json')]);
    expect(again.code).toBe(runOut.code);
    const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('wrote ')).join('\n');
    expect(strip(again.stdout)).toBe(strip(runOut.stdout));
    expect(again.stderr).toBe('');
  });

  it('writes the same files from the saved result', async () => {
    const again = await cli(['report', files('r.json'), '--junit', files('again.xml'), '--html', files('again.html'), '--hdr-log', files('again.hlog')]);
    expect(again.stdout).toContain(`wrote ${files('again.xml')}`);
    expect(await readFile(files('again.xml'), 'utf8')).toBe(await readFile(files('r.xml'), 'utf8'));
    expect(await readFile(files('again.hlog'), 'utf8')).toBe(await readFile(files('r.hlog'), 'utf8'));
    expect(await readFile(files('again.html'), 'utf8')).toBe(await readFile(files('r.html'), 'utf8'));
  });

  it('malformed result files: one line, exit 2', async () => {
    await writeFile(files('notjson.json'), '{"version": 1, ');
    await writeFile(files('notresult.json'), '{"version": 1, "meta": {}}');
    await writeFile(files('badwindow.json'), JSON.stringify({ ...result, timeline: { ...result.timeline, windows: [{ start: 'x' }] } }));
    for (const f of ['notjson.json', 'notresult.json', 'badwindow.json', 'missing.json']) {
      const r = await cli(['report', files(f)]);
      expect(r.code, f).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n'), f).toHaveLength(1);
      expect(r.stderr).toMatch(/^faultline: /);
      expect(r.stderr).not.toMatch(/\s+at \S+ \(/); // no stack trace
    }
  });
});

describe('`faultline compare`', () => {
  it('exits 0 on identical files', async () => {
    const r = await cli(['compare', files('r.json'), files('r.json')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No regression\./);
    expect(r.stdout).toMatch(/p99 at 100 req\/s/);
    expect(r.stdout).toMatch(/recovery from dep latency/);
  });

  it('exits 1 on a constructed regression, and names it', async () => {
    // Both as if the generator kept up (a busy box may flag it, and compare then says n/a).
    const base = structuredClone(result);
    for (const st of base.stages) st.generatorLimited = false;
    await writeFile(files('base.json'), JSON.stringify(base));
    const worse = structuredClone(base);
    worse.stages[0].latency.p99 *= 3;
    worse.faults![0].recovery = 'not-recovered';
    delete worse.faults![0].timeToRecoveryMs;
    await writeFile(files('worse.json'), JSON.stringify(worse));
    const r = await cli(['compare', files('base.json'), files('worse.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/2 regressions: /);
    expect(r.stdout).toMatch(/p99 at 100 req\/s.*REGRESSION/);
    expect(r.stdout).toMatch(/recovery from dep latency.*REGRESSION — did not recover within the new run/);
  });

  it('a capacity drop beyond --max-capacity-drop is a regression; within it is not', async () => {
    const bp = (crossing: number) => ({ clause: 'p99 < 400ms', threshold: 100, value: 150, crossing, firstFailing: { rate: crossing, stage: 0, window: 5, value: 150, elapsedMs: 5000 } });
    const base = { ...structuredClone(result), breakingPoint: bp(1000) };
    const next = { ...structuredClone(result), breakingPoint: bp(850) };
    await writeFile(files('cap-base.json'), JSON.stringify(base));
    await writeFile(files('cap-new.json'), JSON.stringify(next));
    const strict = await cli(['compare', files('cap-base.json'), files('cap-new.json')]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/capacity \(req\/s\)\s+breaks at 1,000.*breaks at 850.*-15\.0%\s+REGRESSION/);
    const lenient = await cli(['compare', files('cap-base.json'), files('cap-new.json'), '--max-capacity-drop', '20%']);
    expect(lenient.code).toBe(0);
    // The library gives the same verdicts.
    expect(compareResults(base as Result, next as Result, DEFAULT_THRESHOLDS).regressions).toHaveLength(1);
  });

  it('unreadable or mismatched input: one line, exit 2', async () => {
    const other = { ...structuredClone(result), meta: { ...result.meta, scenario: 'another scenario' } };
    await writeFile(files('other.json'), JSON.stringify(other));
    await writeFile(files('garbage.json'), 'not json at all');
    for (const args of [
      [files('r.json'), files('other.json')],
      [files('garbage.json'), files('r.json')],
      [files('r.json'), files('nope.json')],
      [files('r.json'), files('r.json'), '--max-p99-rise', 'lots'],
    ]) {
      const r = await cli(['compare', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    }
  });
});
