/**
 * Faults are undone on every exit path, through the real CLI: SIGINT during a
 * pause leaves the paused process running; `kill -9` of faultline during a
 * pause is repaired by the detached watchdog by the fault's end; `recover`
 * undoes a Toxiproxy toxic a killed run left behind.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { closedPort } from '../helpers/servers.ts';
import { BIN, cli } from '../helpers/run.ts';

const SERVICE = fileURLToPath(new URL('../fixtures/service-http.js', import.meta.url));
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid!, 'SIGCONT');
      } catch {}
      c.kill('SIGKILL');
      await once(c, 'exit').catch(() => {});
    }
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Process state from /proc: 'T' stopped, 'S'/'R' running. */
const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];

async function waitFor(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A process faultline does not own: the fixture HTTP service on a free port. */
async function externalService(): Promise<{ child: ChildProcess; port: number }> {
  const port = await closedPort();
  const child = spawn(process.execPath, [SERVICE], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  await sleep(150);
  return { child, port };
}

function startRun(dir: string, scenario: object): ChildProcess {
  writeFileSync(`${dir}/s.json`, JSON.stringify(scenario));
  const c = spawn(process.execPath, [BIN, 'run', `${dir}/s.json`, '-q', '--json', `${dir}/r.json`], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

const pauseScenario = (port: number, pid: number, durationS: number) => ({
  target: `http://127.0.0.1:${port}`,
  requests: [{ path: '/' }],
  load: { profile: 'constant', rate: 20, duration: '30s' },
  engine: { workers: 1, timeout: '1s' },
  faults: [{ name: 'freeze', kind: 'pause', pid, at: '1s', duration: `${durationS}s` }],
});

describe('undo on every exit path (CLI)', () => {
  it('SIGINT during a pause fault leaves the paused process running', async () => {
    const svc = await externalService();
    const dir = mkdtempSync(`${tmpdir()}/fl-sigint-`);
    const run = startRun(dir, pauseScenario(svc.port, svc.child.pid!, 20));
    await waitFor(() => state(svc.child.pid!) === 'T', 8000, 'the pause fault to stop the service');
    run.kill('SIGINT');
    const [code] = await once(run, 'exit');
    expect(code).toBe(3);
    expect(state(svc.child.pid!)).not.toBe('T');
    const r = JSON.parse(readFileSync(`${dir}/r.json`, 'utf8'));
    expect(r.outcome.reason).toMatch(/interrupted by SIGINT/);
    expect(r.timeline.events.some((e: { type: string; fault?: string }) => e.type === 'fault-stop' && e.fault === 'freeze')).toBe(true);
  });

  it('kill -9 of faultline during a pause: the watchdog resumes the process by the fault\'s end', async () => {
    const svc = await externalService();
    const dir = mkdtempSync(`${tmpdir()}/fl-kill9-`);
    const run = startRun(dir, pauseScenario(svc.port, svc.child.pid!, 3));
    await waitFor(() => state(svc.child.pid!) === 'T', 8000, 'the pause fault to stop the service');
    const pausedAt = Date.now();
    run.kill('SIGKILL');
    await once(run, 'exit');
    // The watchdog resumes at the fault's end at the latest (it may resume as soon as faultline is gone).
    await waitFor(() => state(svc.child.pid!) !== 'T', 3000 + 1500, 'the watchdog to resume the service');
    expect(Date.now() - pausedAt).toBeLessThan(4500);
  });

  it('recover undoes a Toxiproxy toxic left behind by a killed run', async () => {
    const dir = mkdtempSync(`${tmpdir()}/fl-recover-`);
    const apiPort = await closedPort();
    const upstream = await externalService();
    const listen = await closedPort();
    writeFileSync(`${dir}/proxies.json`, JSON.stringify([{ name: 'dep', listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${upstream.port}` }]));
    const proxy = spawn(process.execPath, [BIN, 'proxy', '--api', `127.0.0.1:${apiPort}`, '--config', `${dir}/proxies.json`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proxy);
    const api = `http://127.0.0.1:${apiPort}`;
    await waitFor(() => existsSync('/proc/' + proxy.pid), 1000, 'proxy process');
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`${api}/version`).then((r) => r.ok, () => false);
      if (ok) break;
      await sleep(100);
    }
    const run = startRun(dir, {
      target: `http://127.0.0.1:${listen}`,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 10, duration: '30s' },
      engine: { workers: 1 },
      faults: [{ name: 'slow dep', kind: 'toxiproxy', api, proxy: 'dep', toxic: { type: 'latency', attributes: { latency: 300 } }, at: '500ms' }],
    });
    const toxics = async () => (await (await fetch(`${api}/proxies/dep/toxics`)).json()) as unknown[];
    await waitFor(() => existsSync(`${dir}/.faultline/journal.jsonl`) && readFileSync(`${dir}/.faultline/journal.jsonl`, 'utf8').includes('slow dep'), 10_000, 'the journal entry');
    for (let i = 0; i < 50 && (await toxics()).length === 0; i++) await sleep(100);
    expect((await toxics()).length).toBe(1);
    run.kill('SIGKILL');
    await once(run, 'exit');
    expect((await toxics()).length).toBe(1); // left behind
    const rec = await cli(['recover', '--yes', `${dir}/.faultline/journal.jsonl`], { cwd: dir });
    expect(rec.code, rec.stdout + rec.stderr).toBe(0);
    expect(rec.stdout).toMatch(/undone: .*slow dep/);
    expect((await toxics()).length).toBe(0);
    const again = await cli(['recover', '--yes', `${dir}/.faultline/journal.jsonl`], { cwd: dir });
    expect(again.stdout).toMatch(/nothing to recover/);
  });
});
