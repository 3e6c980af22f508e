/**
 * The verdict against ground truth, on real sockets and real processes:
 * - a blocking exec fault (it holds a lock while it runs) is timed by its
 *   effect, not by its command;
 * - a server that holds every request 5 s and then answers 503 breaks
 *   `errors < 1%` within two windows of its first answers, though fewer than
 *   `minSamples` requests complete in any window;
 * - a fault that breaks the hypothesis fails the run unless it says `mayBreak`.
 */
import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario } from '../helpers/run.ts';
import type { Result } from '../../src/result.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An HTTP server on loopback; `handle` decides each answer. */
async function server(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<string> {
  const s = http.createServer(handle);
  s.keepAliveTimeout = 30_000;
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  cleanups.push(() => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

const runStart = (r: Result) => r.timeline.events.find((e) => e.type === 'run-start')!.t;

describe('verdicts hold against ground truth', () => {
  it('a blocking exec fault whose effect starts at 10 s is recorded starting within one window of 10 s', async () => {
    // The command takes 1 s to get its lock, holds it 3 s while it runs, and lets go by exiting:
    // the lock is a file the server checks on every request (slow answers while it exists).
    const dir = mkdtempSync(join(tmpdir(), `faultline-h12-lock-${process.pid}-`));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const lock = join(dir, 'lock');
    let lockSeenAt: number | undefined;
    let lockGoneAt: number | undefined;
    const url = await server((_, res) => {
      if (existsSync(lock)) {
        lockSeenAt ??= performance.timeOrigin + performance.now();
        setTimeout(() => res.end('ok'), 400);
      } else {
        if (lockSeenAt !== undefined) lockGoneAt ??= performance.timeOrigin + performance.now();
        res.end('ok');
      }
    });
    const r = await runScenario({
      target: url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 50, duration: '15s' },
      baseline: false,
      hypothesis: ['p99 < 200ms'],
      engine: { workers: 1 },
      faults: [
        {
          name: 'table lock',
          kind: 'exec',
          at: '9s',
          command: `sleep 1; touch ${lock}; echo locked; sleep 3; rm -f ${lock}`,
          undo: `rm -f ${lock}`,
          ready: { line: 'locked' },
        },
      ],
    });
    const tick = r.timeline.tickMs;
    const start = r.timeline.events.find((e) => e.type === 'fault-start')!;
    const stop = r.timeline.events.find((e) => e.type === 'fault-stop')!;
    const loadStart = r.timeline.events.find((e) => e.type === 'stage-start')!.t;
    expect(lockSeenAt, 'the server saw the lock').toBeDefined();
    // Ground truth: the lock came 10 s into the load (9 s trigger + 1 s to take it) and went 3 s later.
    expect(Math.abs(start.t - (loadStart + 10_000))).toBeLessThanOrEqual(tick);
    expect(Math.abs(start.t - lockSeenAt!)).toBeLessThanOrEqual(tick);
    expect(Math.abs(stop.t - lockGoneAt!)).toBeLessThanOrEqual(tick);
    expect(stop.t - start.t).toBeGreaterThan(2500);
    expect(stop.t - start.t).toBeLessThan(3000 + tick);
    // The requested time is kept beside it (the trigger, 1 s before the effect).
    expect((start as { requestedAt?: number }).requestedAt! - loadStart).toBeGreaterThanOrEqual(9000);
    // So its impact is the fault's, not the load's: no false breaking point, exit 1 (no mayBreak).
    const sustained = r.breaches!.filter((b) => b.sustained);
    expect(sustained.length).toBeGreaterThanOrEqual(1);
    for (const b of sustained) expect(b.attribution, JSON.stringify(b)).toBe('fault');
    expect(r.breakingPoint).toBeNull();
    expect(r.outcome.exitCode).toBe(1);
    expect(r.outcome.reason).toContain('"table lock" broke the hypothesis');
    expect(r.faults![0].requestedStartElapsedMs! + runStart(r)).toBe((start as { requestedAt?: number }).requestedAt);
  }, 60_000);

  it('a server that holds every request 5 s, then answers 503, breaks errors < 1% within two windows', async () => {
    let firstAnswer: number | undefined;
    const url = await server((_, res) =>
      setTimeout(() => {
        firstAnswer ??= performance.timeOrigin + performance.now();
        res.statusCode = 503;
        res.end('busy');
      }, 5000),
    );
    // 10 req/s: at most 10 requests complete in any window, under minSamples 20 — but hundreds wait.
    const r = await runScenario({
      target: url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 10, duration: '9s' },
      baseline: false,
      hypothesis: ['errors < 1%'],
      minSamples: 20,
      engine: { workers: 1, timeout: '8s' },
    });
    const tick = r.timeline.tickMs;
    const breach = r.breaches!.find((b) => b.clause === 'errors < 1%' && b.sustained);
    expect(breach, JSON.stringify(r.breaches)).toBeDefined();
    expect(breach!.start - firstAnswer!).toBeLessThanOrEqual(2 * tick);
    // Before any answer the errors clause was not passed on nothing: inconclusive, never pass.
    const verdicts = r.hypothesis!.verdicts;
    for (const [i, w] of r.timeline.windows.entries()) if (w.end <= firstAnswer!) expect(verdicts[i].status, `window ${i}`).not.toBe('pass');
    expect(r.outcome.exitCode).toBe(1);
  }, 60_000);

  it('the same breaking fault passes the gate when it says mayBreak (and still shows)', async () => {
    let slow = false;
    const url = await server((_, res) => (slow ? setTimeout(() => res.end('ok'), 300) : res.end('ok')));
    const dir = mkdtempSync(join(tmpdir(), `faultline-h12-flag-${process.pid}-`));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // The fault is an exec whose effect the test server feels: a flag file polled by a timer.
    const flag = join(dir, 'slow');
    const poll = setInterval(() => (slow = existsSync(flag)), 20);
    cleanups.push(() => clearInterval(poll));
    const scenario = (mayBreak: boolean) => ({
      target: url,
      requests: [{ path: '/' }],
      load: { profile: 'constant' as const, rate: 50, duration: '6s' },
      baseline: false as const,
      hypothesis: ['p99 < 150ms'],
      engine: { workers: 1 },
      faults: [{ name: 'slow db', kind: 'exec', at: '2s', duration: '2.5s', command: `touch ${flag}`, undo: `rm -f ${flag}`, ...(mayBreak ? { mayBreak: true } : {}) }],
    });
    const strict = await runScenario(scenario(false));
    expect(strict.outcome.exitCode, strict.outcome.reason).toBe(1);
    const lenient = await runScenario(scenario(true));
    expect(lenient.outcome.exitCode, lenient.outcome.reason).toBe(0);
    expect(lenient.clauses![0]).toMatchObject({ outcome: 'pass', brokenBy: [], brokenByAllowed: ['slow db'] });
    expect(lenient.breaches!.some((b) => b.sustained && b.faults.includes('slow db'))).toBe(true);
  }, 60_000);

  it('a baseline with too few requests to judge aborts naming the clause and what it had', async () => {
    const url = await server((_, res) => res.end('ok'));
    const r = await runScenario({
      target: url,
      requests: [{ path: '/' }],
      baseline: { rate: 3, duration: '1s' },
      load: { profile: 'constant', rate: 50, duration: '2s' },
      hypothesis: ['p99 < 1s'],
      minSamples: 20,
      engine: { workers: 1 },
    });
    expect(r.outcome.exitCode).toBe(3);
    expect(r.outcome.reason).toMatch(/^the hypothesis could not be judged at baseline: "p99 < 1s" had \d+ requests? due over the 1s baseline \(minSamples 20\); raise the baseline rate or duration, or lower minSamples$/);
  }, 30_000);
});
