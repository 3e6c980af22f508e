import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceSpecSchema } from '../../src/services/schema.ts';
import { startServices, type ManagedServices } from '../../src/services/manager.ts';
import { faultKinds } from '../../src/faults/index.ts';
import { armWatchdog } from '../../src/faults/watchdog.ts';
import { Injector } from '../../src/faults/injector.ts';
import { MemoryJournal } from '../../src/faults/journal.ts';
import type { TimelineEvent } from '../../src/timeline.ts';
import { testCtx } from '../fixtures/faultCtx.ts';
import { freePorts, procState, isGone, waitFor, forceKill } from '../fixtures/proc.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures');
const running: ManagedServices[] = [];
const children: ChildProcess[] = [];
const stray: number[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stopAll()));
  for (const c of children.splice(0)) if (c.pid) forceKill(c.pid);
  for (const p of stray.splice(0)) forceKill(p);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A plain sleeper process (not managed) to pause. */
function sleeper(): number {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

const running_ = (pid: number) => ['S', 'R'].includes(procState(pid) ?? '');

describe('pause', () => {
  it('a paused managed service is stopped (T) during the fault and resumes at its end', async () => {
    const [port] = await freePorts(1);
    const cwd = mkdtempSync(join(tmpdir(), 'faultline-pause-'));
    dirs.push(cwd);
    const reg = await startServices({ api: serviceSpecSchema.parse({ command: process.execPath, args: [join(fixtures, 'service-http.js')], ports: [port] }) }, { cwd });
    running.push(reg);
    const [pid] = reg.get('api')!.pids();
    const events: TimelineEvent[] = [];
    const journal = new MemoryJournal();
    const spec = { name: 'api pause', kind: 'pause', target: 'api', at: 0, duration: 400, params: faultKinds.pause.params.parse({}) };
    const inj = new Injector([spec], testCtx({ services: reg, journal }), faultKinds, (e) => events.push(e));
    const t0 = Date.now();
    await inj.tick({ now: t0, elapsedMs: 0, offeredRate: 10, stage: 0 });
    expect(procState(pid)).toBe('T');
    expect([...journal.entries.values()].map((e) => e.undo)).toEqual([expect.objectContaining({ type: 'signal', pid: -pid, signal: 'SIGCONT' })]);
    // A request while paused gets no answer.
    await expect(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    // Tick on the real clock, as the coordinator does, until the fault's 400 ms are over.
    let lastPaused = 0;
    await waitFor(async () => {
      const now = Date.now();
      await inj.tick({ now, elapsedMs: now - t0, offeredRate: 10, stage: 0 });
      if (inj.active().length > 0) {
        expect(procState(pid)).toBe('T');
        lastPaused = now;
      }
      return inj.active().length === 0;
    }, 3000, 20);
    expect(lastPaused - t0).toBeGreaterThanOrEqual(380);
    expect(running_(pid)).toBe(true);
    expect(journal.entries.size).toBe(0);
    const stop = events.find((e) => e.type === 'fault-stop') as unknown as { detail: { pids: number[]; pausedMs: number } };
    expect(stop.detail.pids).toEqual([pid]);
    expect(stop.detail.pausedMs).toBeGreaterThanOrEqual(395);
    expect(stop.detail.pausedMs).toBeLessThan(1000);
    const body = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { pid: number };
    expect(body.pid).toBe(pid);
  });

  it('disarms its watchdog on a normal stop', async () => {
    const pid = sleeper();
    const f = faultKinds.pause.create({ name: 'p', kind: 'pause', duration: 60_000, params: { pid } }, testCtx());
    await f.start();
    const wd = (f as unknown as { watchdogPid(): number }).watchdogPid();
    stray.push(wd);
    expect(isGone(wd)).toBe(false);
    await f.stop();
    expect(running_(pid)).toBe(true);
    expect(await waitFor(() => isGone(wd), 1000)).toBe(true);
  });

  it('targets a process faultline does not own through a pidfile', async () => {
    const pid = sleeper();
    const d = mkdtempSync(join(tmpdir(), 'faultline-pause-'));
    dirs.push(d);
    writeFileSync(join(d, 'app.pid'), `${pid}\n`);
    const f = faultKinds.pause.create({ name: 'p', kind: 'pause', params: faultKinds.pause.params.parse({ pidfile: join(d, 'app.pid') }) }, testCtx());
    await f.start();
    stray.push((f as unknown as { watchdogPid(): number }).watchdogPid());
    expect(procState(pid)).toBe('T');
    await f.stop();
    expect(running_(pid)).toBe(true);
    writeFileSync(join(d, 'bad.pid'), 'nope');
    const bad = faultKinds.pause.create({ name: 'p', kind: 'pause', params: { pidfile: join(d, 'bad.pid') } }, testCtx());
    await expect(bad.start()).rejects.toThrow(/does not hold a pid/);
    await bad.stop();
  });

  it('the watchdog alone resumes the pid at the deadline, not before', async () => {
    const pid = sleeper();
    const wd = armWatchdog([pid], { deadline: Date.now() + 500, pollMs: 20 });
    stray.push(wd.pid);
    process.kill(pid, 'SIGSTOP');
    await sleep(300);
    expect(procState(pid)).toBe('T');
    expect(await waitFor(() => running_(pid), 1500)).toBe(true);
    expect(await waitFor(() => isGone(wd.pid), 1000)).toBe(true);
  });

  it('kill -9 of the process that paused it: the watchdog resumes the pid by the fault\'s end', async () => {
    const pid = sleeper();
    const parent = spawn(process.execPath, [join(fixtures, 'pause-parent.ts'), String(pid), '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(parent);
    const line = await new Promise<string>((res, rej) => {
      createInterface({ input: parent.stdout! }).once('line', res);
      parent.once('exit', (c) => rej(new Error(`parent exited ${c}`)));
      setTimeout(() => rej(new Error('parent did not report')), 10_000);
    });
    const t0 = Date.now();
    const { watchdog } = JSON.parse(line) as { watchdog: number };
    stray.push(watchdog);
    expect(procState(pid)).toBe('T');
    const killedAt = Date.now();
    parent.kill('SIGKILL');
    expect(await waitFor(() => running_(pid), 1500 - (Date.now() - t0) + 300)).toBe(true);
    console.log(`watchdog resumed the pid ${Date.now() - killedAt} ms after kill -9 of its parent`);
    expect(await waitFor(() => isGone(watchdog), 1000)).toBe(true);
  });
});
