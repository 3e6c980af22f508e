/** `faultline merge`: result files combined offline, exactly, and judged again. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countingServer, type TestServer } from '../helpers/servers.ts';
import { cli, runScenario } from '../helpers/run.ts';
import { decode, encode, initHistograms, mergeEncoded } from '../../src/metrics/histogram.ts';
import type { Result } from '../../src/result.ts';

let server: TestServer;
let dir: string;
const results: Result[] = [];
const files: string[] = [];

beforeAll(async () => {
  await initHistograms();
  server = await countingServer();
  dir = await mkdtemp(join(tmpdir(), `faultline-h16-merge-${process.pid}-`));
  // Two runs of one scenario, as two machines would each run their share.
  for (const rate of [150, 250]) {
    const r = await runScenario(
      {
        target: server.url,
        requests: [{ path: '/' }],
        load: { profile: 'steps', from: rate, to: rate * 2, steps: 2, stepDuration: '2s' },
        hypothesis: ['p99 < 2s'],
        baseline: false,
        minSamples: 10,
        engine: { workers: 1 },
      },
      { stateDir: join(dir, 'state') },
    );
    results.push(r);
    const f = join(dir, `r${rate}.json`);
    await writeFile(f, JSON.stringify(r));
    files.push(f);
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('faultline merge', () => {
  it('adds every window exactly, sums the offered load, and judges the sum', async () => {
    const out = join(dir, 'merged.json');
    const r = await cli(['merge', ...files, '--json', out], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/held/i);
    const m = JSON.parse(await readFile(out, 'utf8')) as Result;
    const [a, b] = results;
    // Window by window: requests add, and the latency histogram is the exact sum of the two.
    for (let s = 0; s < 2; s++) {
      const wa = a.timeline.windows.filter((w) => w.stage === s);
      const wb = b.timeline.windows.filter((w) => w.stage === s);
      const wm = m.timeline.windows.filter((w) => w.stage === s);
      expect(wm.length).toBe(Math.max(wa.length, wb.length));
      wm.forEach((w, j) => {
        expect(w.overall.requests).toBe(wa[j].overall.requests + wb[j].overall.requests);
        expect(w.offered).toBe(wa[j].offered + wb[j].offered);
        expect(encode(decode(w.overall.latency))).toBe(encode(mergeEncoded([wa[j].overall.latency, wb[j].overall.latency])));
      });
    }
    const total = (x: Result) => x.timeline.windows.reduce((n, w) => n + w.overall.requests, 0);
    expect(total(m)).toBe(total(a) + total(b));
    expect(total(m)).toBe(server.count());
    // The stages' planned rates are the sums of the files' (150+250, 300+500).
    expect(m.stages.map((s) => s.offeredRate)).toEqual([400, 800]);
    expect(m.agents!.map((x) => x.requests)).toEqual([total(a), total(b)]);
    expect(m.outcome.exitCode).toBe(0);
  });

  it('a file that ends early leaves its windows inconclusive, by name (exit 5)', async () => {
    const cut = structuredClone(results[1]);
    cut.timeline.windows = cut.timeline.windows.filter((w) => w.stage === 0);
    const f = join(dir, 'cut.json');
    await writeFile(f, JSON.stringify(cut));
    const out = join(dir, 'merged-cut.json');
    const r = await cli(['merge', files[0], f, '--json', out], { timeoutMs: 60_000 });
    expect(r.code, r.stdout + r.stderr).toBe(5);
    const m = JSON.parse(await readFile(out, 'utf8')) as Result;
    const gaps = m.timeline.windows.filter((w) => w.agentProblems?.some((p) => p.agent === 'cut.json'));
    expect(gaps.length).toBe(results[0].timeline.windows.filter((w) => w.stage === 1).length);
    expect(m.outcome.reason).toMatch(/cut\.json: dead/);
  });

  it('files that did not share one load are refused: one line each, exit 2', async () => {
    const other = structuredClone(results[1]);
    other.stages = other.stages.slice(0, 1);
    other.timeline.tickMs = 500;
    const f = join(dir, 'other.json');
    await writeFile(f, JSON.stringify(other));
    const r = await cli(['merge', files[0], f], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/different windows/);
    expect(r.stderr).toMatch(/different stages/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const one = await cli(['merge', files[0]], { timeoutMs: 60_000 });
    expect(one.code).toBe(2);
  });
});
