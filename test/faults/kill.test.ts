import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceSpecSchema } from '../../src/services/schema.ts';
import { startServices, type ManagedServices } from '../../src/services/manager.ts';
import { faultKinds } from '../../src/faults/index.ts';
import { pickRandom, selectionSize } from '../../src/faults/targets.ts';
import { Injector } from '../../src/faults/injector.ts';
import { MemoryJournal } from '../../src/faults/journal.ts';
import type { FaultSpecBase } from '../../src/faults/types.ts';
import type { TimelineEvent } from '../../src/timeline.ts';
import { testCtx, seeded } from '../fixtures/faultCtx.ts';
import { freePorts, isGone, waitFor } from '../fixtures/proc.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures');
const running: ManagedServices[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stopAll()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function service(n: number, env: Record<string, string> = {}): Promise<{ reg: ManagedServices; ports: number[] }> {
  const ports = await freePorts(n);
  const cwd = mkdtempSync(join(tmpdir(), 'faultline-kill-'));
  dirs.push(cwd);
  const reg = await startServices({ api: serviceSpecSchema.parse({ command: process.execPath, args: [join(fixtures, 'service-http.js')], ports, env }) }, { cwd });
  running.push(reg);
  return { reg, ports };
}

const kill = (params: Record<string, unknown>, more: Partial<FaultSpecBase> = {}): FaultSpecBase => ({
  name: 'api crash',
  kind: 'kill',
  target: 'api',
  ...more,
  params: faultKinds.kill.params.parse(params),
});

describe('replica selection', () => {
  it('a percentage rounds down but picks at least one; count is capped; a seed picks the same ones', () => {
    expect(selectionSize(4, { replicas: 0.5 })).toBe(2);
    expect(selectionSize(3, { replicas: 0.5 })).toBe(1);
    expect(selectionSize(3, { replicas: 0.01 })).toBe(1);
    expect(selectionSize(10, { replicas: 0.3 })).toBe(3);
    expect(selectionSize(4, { count: 9 })).toBe(4);
    expect(selectionSize(4, {})).toBe(4);
    const items = [0, 1, 2, 3, 4, 5, 6, 7];
    expect(pickRandom(items, 3, seeded(42))).toEqual(pickRandom(items, 3, seeded(42)));
    // Every replica can be picked: over many seeds, each index shows up.
    const seen = new Set<number>();
    for (let s = 0; s < 200; s++) for (const i of pickRandom(items, 2, seeded(s))) seen.add(i);
    expect([...seen].sort()).toEqual(items);
  });
});

describe('kill', () => {
  it('a killed service is restarted after the delay, ready again, and the times are recorded', async () => {
    const { reg, ports } = await service(1, { DELAY_READY_MS: '200' });
    const [pid] = reg.get('api')!.pids();
    const events: TimelineEvent[] = [];
    const journal = new MemoryJournal();
    const inj = new Injector([kill({ restart: '300ms' }, { at: 0 })], testCtx({ services: reg, journal }), faultKinds, (e) => events.push(e));
    const t0 = Date.now();
    await inj.tick({ now: t0, elapsedMs: 0, offeredRate: 50, stage: 0 });
    expect(journal.entries.size).toBe(1);
    expect(await waitFor(() => isGone(pid), 1000)).toBe(true);
    // Down while the restart delay runs: connections are refused.
    await expect(fetch(`http://127.0.0.1:${ports[0]}/`)).rejects.toThrow();
    // No duration: the fault stops itself once the replica is ready again.
    const stopped = await waitFor(async () => {
      await inj.tick({ now: Date.now(), elapsedMs: Date.now() - t0, offeredRate: 60, stage: 0 });
      return inj.active().length === 0;
    }, 5000, 50);
    expect(stopped).toBe(true);
    const stop = events.find((e) => e.type === 'fault-stop');
    expect(stop).toBeDefined();
    const d = (stop as { detail: Record<string, number[] | number> }).detail;
    expect(d.signal).toBe('SIGKILL');
    expect(d.pids).toEqual([pid]);
    expect(d.restartDelayMs).toBe(300);
    const [readyMs] = d.restartToReadyMs as number[];
    const [downMs] = d.downMs as number[];
    expect(readyMs).toBeGreaterThanOrEqual(200); // the fixture waits 200 ms before listening
    expect(readyMs).toBeLessThan(3000);
    expect(downMs).toBeGreaterThanOrEqual(500);
    console.log(`kill → ready again: restartToReadyMs=${readyMs} downMs=${downMs}`);
    const newPid = reg.get('api')!.pids()[0];
    expect(newPid).not.toBe(pid);
    expect((d.restartedPids as number[])[0]).toBe(newPid);
    const body = (await (await fetch(`http://127.0.0.1:${ports[0]}/`)).json()) as { pid: number };
    expect(body.pid).toBe(newPid);
    expect(journal.entries.size).toBe(0);
    expect((await inj.undoAll()).failed).toEqual([]);
  });

  it('killing 50% of 4 replicas kills exactly 2, and the same seed picks the same ones', async () => {
    const picks: number[][] = [];
    for (let round = 0; round < 2; round++) {
      const { reg } = await service(4);
      const pids = reg.get('api')!.pids();
      const fault = faultKinds.kill.create(kill({ replicas: '50%' }), testCtx({ services: reg, random: seeded(7) }));
      await fault.start();
      const d = fault.detail!() as { replicas: number[]; pids: number[] };
      expect(d.replicas).toHaveLength(2);
      expect(await waitFor(() => d.pids.every(isGone), 2000)).toBe(true);
      const alive = pids.filter((p) => !isGone(p));
      expect(alive).toHaveLength(2);
      expect(alive.some((p) => d.pids.includes(p))).toBe(false);
      const down = () => reg.get('api')!.replicas().filter((r) => r.state === 'down').map((r) => r.index);
      expect(await waitFor(() => down().length === 2, 2000)).toBe(true);
      expect(down()).toEqual(d.replicas);
      await fault.stop();
      picks.push(d.replicas);
      await reg.stopAll();
    }
    expect(picks[1]).toEqual(picks[0]);
  });

  it('count: 3 kills three; terminate sends SIGTERM (graceful exit)', async () => {
    const { reg } = await service(4);
    const f = faultKinds.kill.create(kill({ count: 3 }), testCtx({ services: reg, random: seeded(3) }));
    await f.start();
    await f.stop();
    expect(await waitFor(() => reg.get('api')!.pids().length === 1, 2000)).toBe(true);

    const { reg: reg2 } = await service(1);
    const term = faultKinds.terminate.create({ ...kill({}), kind: 'terminate' }, testCtx({ services: reg2 }));
    await term.start();
    expect(await waitFor(() => reg2.get('api')!.replicas()[0].state === 'down', 2000)).toBe(true);
    expect(term.detail!()).toMatchObject({ signal: 'SIGTERM' });
    await term.stop();
  });

  it('stopping early restarts at once instead of waiting for the delay', async () => {
    const { reg } = await service(1);
    const f = faultKinds.kill.create(kill({ restart: '30s' }), testCtx({ services: reg }));
    await f.start();
    await sleep(50);
    const t0 = Date.now();
    await f.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(reg.get('api')!.replicas()[0].state).toBe('ready');
  });

  it('rejects restart for a pid it does not own, and a selection plus a pid', () => {
    expect(faultKinds.kill.params.safeParse({ pid: 1234, restart: '1s' }).success).toBe(false);
    expect(faultKinds.kill.params.safeParse({ pid: 1234, count: 1 }).success).toBe(false);
    expect(faultKinds.kill.params.safeParse({ replicas: '50%', count: 1 }).success).toBe(false);
    expect(faultKinds.kill.params.safeParse({ bogus: 1 }).success).toBe(false);
  });
});

describe('kill without its own restart', () => {
  it('reports how long the service\'s restart policy took to bring the replica back', async () => {
    const [port] = await freePorts(1);
    const cwd = mkdtempSync(join(tmpdir(), 'faultline-kill-'));
    dirs.push(cwd);
    const reg = await startServices(
      { api: serviceSpecSchema.parse({ command: process.execPath, args: [join(fixtures, 'service-http.js')], ports: [port], restart: { policy: 'on-failure', delay: '200ms' } }) },
      { cwd },
    );
    running.push(reg);
    const events: TimelineEvent[] = [];
    const inj = new Injector([kill({}, { duration: 1500 })], testCtx({ services: reg }), faultKinds, (e) => events.push(e));
    const t0 = Date.now();
    const loop = async () => {
      await inj.tick({ now: Date.now(), elapsedMs: Date.now() - t0, offeredRate: 1, stage: 0 });
      return inj.active().length === 0 && events.length > 0;
    };
    expect(await waitFor(loop, 5000, 50)).toBe(true);
    const d = (events.find((e) => e.type === 'fault-stop') as unknown as { detail: { downMs: number[] } }).detail;
    expect(d.downMs[0]).toBeGreaterThanOrEqual(200);
    expect(d.downMs[0]).toBeLessThan(1500);
  });
});
