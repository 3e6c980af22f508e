/**
 * The HTML report in a real browser: Debian's Chromium, driven by
 * playwright-core, opens the report of a real run (a fault that breaks one
 * request name, then load that breaks the other), sees no console error and
 * no network request, finds every chart drawn, and keeps a screenshot in
 * test/artifacts/report.png. Scenario and server strings in that run are
 * hostile on purpose: none of them may become markup or script.
 *
 * Without Chromium (`apt-get install -y chromium`) the tests say loudly that
 * they skipped.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { runScenario } from '../helpers/run.ts';
import { twoRoutes, freePort, type TwoRoutes } from './twoRoutes.ts';
import { prepare } from '../../src/report/index.ts';
import { htmlReport } from '../../src/report/html.ts';
import type { Result } from '../../src/result.ts';

// The page.evaluate callbacks run in the browser; this file compiles against Node's types only.
declare const document: any, window: any;
type HTMLCanvasElement = { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };

const CHROMIUM = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';
const HAVE = existsSync(CHROMIUM);
if (!HAVE) {
  console.warn(
    `\n⚠⚠⚠ SKIPPED: the HTML report's browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium; or set FAULTLINE_CHROMIUM). The HTML report was NOT checked in a browser. ⚠⚠⚠\n`,
  );
}
const bit = HAVE ? it : it.skip;

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const HOSTILE_SCENARIO = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_FAULT = 'dep </script><script>window.__pwned=2</script>';
const HOSTILE_NAME = 'fast <b onmouseover="window.__pwned=3">x</b> & "q"';
const HOSTILE_EXAMPLE = 'HTTP 500: <script>window.__pwned=4</script><iframe src="javascript:window.__pwned=5"></iframe>';

let sys: TwoRoutes | undefined;
let dir: string;
let browser: Browser | undefined;
let result: Result;
let file: string;

beforeAll(async () => {
  if (!HAVE) return;
  // /fast holds each request 20 ms in one of 2 slots: 100 req/s, so the last step (120 req/s to it) breaks it by load.
  sys = await twoRoutes({ fastCapacity: { slots: 2, serviceMs: 20 } });
  const proxyPort = await freePort();
  sys.via(proxyPort);
  const raw = await runScenario({
    name: HOSTILE_SCENARIO,
    target: sys.url,
    requests: [
      { name: 'slow', path: '/slow' },
      { name: HOSTILE_NAME, path: '/fast' },
    ],
    load: { profile: 'steps', from: 60, to: 240, steps: 4, stepDuration: '2s' },
    baseline: false,
    hypothesis: ['p99 < 100ms', 'errors < 1%'],
    proxies: { dep: { listen: `127.0.0.1:${proxyPort}`, upstream: `127.0.0.1:${sys.depPort}` } },
    // Early, so the windows it owns (its span and `sustain` after) are over before load breaks the last step.
    faults: [{ name: HOSTILE_FAULT, kind: 'latency', target: 'dep', latency: '250ms', at: '1200ms', duration: '1500ms' }],
    engine: { workers: 1 },
  });
  // Server text, as an error example would carry it.
  raw.stages[0].examples = { ...raw.stages[0].examples, http_5xx: HOSTILE_EXAMPLE };
  result = prepare(raw);
  dir = await mkdtemp(join(tmpdir(), 'faultline-html-'));
  file = join(dir, 'report.html');
  await writeFile(file, htmlReport(result));
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await sys?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the HTML report in Chromium', () => {
  bit('opens with no console error and no network request, every chart drawn; screenshot kept', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => document.body.getAttribute('data-charts') === 'drawn', null, { timeout: 10_000 });
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);

    // Every chart has a canvas with something drawn on it.
    const charts = await page.evaluate(() =>
      ['chart-rate', 'chart-latency', 'chart-errors', 'chart-spectrum'].map((id) => {
        const c = document.querySelector(`#${id} canvas`) as HTMLCanvasElement | null;
        if (!c) return { id, painted: 0, w: 0 };
        const ctx = c.getContext('2d')!;
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < d.length; i += 4 * 7) if (d[i] > 0) painted++;
        return { id, painted, w: c.width };
      }),
    );
    for (const c of charts) {
      expect(c.w, c.id).toBeGreaterThan(300);
      expect(c.painted, c.id).toBeGreaterThan(500);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await page.close();
  });

  bit('marks faults, stage boundaries, the breaking point and the thresholds from the data', async () => {
    const page = await browser!.newPage();
    await page.goto(pathToFileURL(file).href);
    const data = await page.evaluate(() => JSON.parse(document.getElementById('faultline-data')!.textContent!));
    expect(data.faults).toHaveLength(1);
    expect(data.faults[0].name).toBe(HOSTILE_FAULT);
    expect(data.stages).toHaveLength(4);
    expect(data.latencyThresholds).toEqual([{ label: 'p99 < 100ms', value: 100 }]);
    expect(data.errorThresholds).toEqual([{ label: 'errors < 1%', value: 1 }]);
    // The run is built to break by load in its last step; a box too busy to keep the
    // schedule makes it "the generator ran out first" instead, and then nothing is marked.
    if (result.breakingPoint) expect(data.breakingPoint.label).toMatch(/^breaking point [\d,]+ req\/s$/);
    else {
      expect(result.generatorLimit, 'no breaking point and no generator limit: the run did not break as built').toBeTruthy();
      expect(data.breakingPoint).toBeNull();
    }
    // The spectrum: one line per stage, x = 1/(1−p) rising.
    expect(data.spectrum.series).toHaveLength(4);
    expect(data.spectrum.x.every((v: number, i: number, a: number[]) => i === 0 || v > a[i - 1])).toBe(true);
    await page.close();
  });

  bit('escapes every string from the scenario and the server', async () => {
    const page = await browser!.newPage();
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => document.body.getAttribute('data-charts') === 'drawn');
    const seen = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      imgs: document.querySelectorAll('img').length,
      iframes: document.querySelectorAll('iframe').length,
      bolds: document.querySelectorAll('b[onmouseover]').length,
      scripts: document.querySelectorAll('script').length,
      title: document.querySelector('h1')!.textContent,
      text: document.body.innerText,
    }));
    expect(seen.pwned).toBeUndefined();
    expect(seen.imgs).toBe(0);
    expect(seen.iframes).toBe(0);
    expect(seen.bolds).toBe(0);
    expect(seen.scripts).toBe(3); // data, uPlot, the page's own
    // The strings are shown as text, whole.
    expect(seen.title).toContain(HOSTILE_SCENARIO);
    expect(seen.text).toContain(HOSTILE_FAULT);
    expect(seen.text).toContain(HOSTILE_EXAMPLE);
    expect(seen.text).toContain(HOSTILE_NAME);
    await page.close();
  });
});
