import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { capacityServer, countingServer, failingServer, type TestServer } from '../helpers/servers.ts';
import { cli } from '../helpers/run.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const tmp = () => mkdtempSync(`${tmpdir()}/fl-exit-`);

describe('CLI exit codes for CI gates', () => {
  it('0: the hypothesis held up to the required level', async () => {
    server = await countingServer();
    const r = await cli(['run', '--url', `${server.url}/`, '--from', '100', '--to', '200', '--steps', '2', '--step-duration', '1s', '--hypothesis', 'p99<500ms, errors<1%', '--require', '200', '--no-baseline', '--workers', '1']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/held/i);
  });

  it('1: it broke below the required level', async () => {
    // 4 slots × 50 ms = 80 req/s capacity, far below the 200 req/s required.
    server = await capacityServer(4, 50);
    const r = await cli(['run', '--url', `${server.url}/`, '--from', '40', '--to', '200', '--steps', '3', '--step-duration', '1.5s', '--hypothesis', 'p99<200ms', '--require', '200', '--no-baseline', '--workers', '1', '--timeout', '2s']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/Hypothesis broke at/);
    expect(r.stdout).toMatch(/exit 1/);
  });

  it('3: the hypothesis does not hold at baseline', async () => {
    server = await capacityServer(50, 60);
    const r = await cli(['run', '--url', `${server.url}/`, '--rate', '400', '--duration', '2s', '--expected-peak', '400', '--hypothesis', 'p99<20ms', '--workers', '1']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/the hypothesis does not hold at baseline/);
    // Nothing past the baseline ran.
    expect(r.stdout).not.toMatch(/^1\s+400 req\/s/m);
  });

  it('3: a stop condition aborts within its window plus one tick, and the partial result is complete JSON', async () => {
    const failing = await failingServer(1500);
    server = failing;
    const dir = tmp();
    const r = await cli(['run', '--url', `${server.url}/`, '--rate', '200', '--duration', '20s', '--stop', 'errors > 50% for 1s', '--window', '500ms', '--workers', '1', '--json', `${dir}/r.json`, '-q']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const res = JSON.parse(readFileSync(`${dir}/r.json`, 'utf8'));
    expect(res.outcome.status).toBe('aborted');
    expect(res.outcome.reason).toMatch(/stop condition "errors > 50% for 1s" met/);
    const abort = res.timeline.events.find((e: { type: string }) => e.type === 'abort');
    // Errors start at 1.5 s after the server started (a little before the run started); the
    // condition needs 1 s of failing windows; it must trip within that plus one window and one tick.
    const firstBad = res.timeline.windows.find((w: { overall: { errors: number; requests: number } }) => w.overall.errors / Math.max(1, w.overall.requests) > 0.5);
    expect(firstBad).toBeTruthy();
    expect(abort.t - firstBad.start).toBeLessThanOrEqual(1000 + 500 + 500 + 250);
    expect(res.meta.durationMs).toBeLessThan(10_000);
    expect(res.stages[0].requests).toBeGreaterThan(0);
  });
});
