/**
 * memory: a real service under a cgroup limit is OOM-killed when it allocates
 * past it (and restarted, restart-to-ready measured), or merely squeezed; a
 * hog holds what it was told to. The v2 path runs on a fake cgroupfs.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceSpecSchema } from '../../src/services/schema.ts';
import { startServices, type ManagedServices } from '../../src/services/manager.ts';
import { memory, createMemoryFault } from '../../src/faults/kinds/memory.ts';
import { findHierarchy, faultCgroupsUnder } from '../../src/faults/cgroup.ts';
import { MemoryJournal } from '../../src/faults/journal.ts';
import type { FaultSpecBase } from '../../src/faults/types.ts';
import { testCtx } from '../fixtures/faultCtx.ts';
import { freePorts, isGone, waitFor } from '../fixtures/proc.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures');
const running: ManagedServices[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stopAll()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function service(): Promise<{ reg: ManagedServices; port: number }> {
  const [port] = await freePorts(1);
  const cwd = mkdtempSync(join(tmpdir(), 'fl15-mem-'));
  dirs.push(cwd);
  const reg = await startServices({ api: serviceSpecSchema.parse({ command: process.execPath, args: [join(fixtures, 'service-resource.js')], ports: [port], ready: { port: true } }) }, { cwd });
  running.push(reg);
  return { reg, port };
}

const spec = (params: Record<string, unknown>, duration = 4000): FaultSpecBase => ({ name: 'api squeezed', kind: 'memory', target: 'api', duration, params: memory.params.parse(params) });

const alloc = (port: number, mb: number) => fetch(`http://127.0.0.1:${port}/alloc?mb=${mb}`).then((r) => r.json() as Promise<{ held: number }>);

const v1 = findHierarchy('memory')?.version === 1;
const mine = () => faultCgroupsUnder('/sys/fs/cgroup/memory', 6).filter((p) => p.includes(`faultline-${process.pid}-`));

describe('memory', () => {
  it.skipIf(!v1)('limit: allocating past 96 MiB gets the service OOM-killed; restarted after 300 ms, restart-to-ready measured; the cgroup is gone after', async () => {
    const { reg, port } = await service();
    const pid0 = reg.get('api')!.pids()[0]!;
    const journal = new MemoryJournal();
    const f = memory.create(spec({ limit: '96MiB', restart: '300ms' }), testCtx({ services: reg, journal }));
    await f.start();
    expect([...journal.entries.values()].map((e) => e.undo.type)).toEqual(['cgroup']);
    expect(readFileSync(`/proc/${pid0}/cgroup`, 'utf8')).toMatch(new RegExp(`memory:.*faultline-${process.pid}-`));
    // 40 MiB fits; then 8 MiB at a time until the kernel kills it (the connection dies with it).
    expect((await alloc(port, 40)).held).toBe(40);
    let died = false;
    for (let i = 0; i < 20 && !died; i++) died = await alloc(port, 8).then(() => false, () => true);
    expect(died).toBe(true);
    expect(await waitFor(() => isGone(pid0), 2000)).toBe(true);
    // Restarted by the fault after its delay, outside the limit.
    expect(await waitFor(() => reg.get('api')!.replicas()[0].state === 'ready' && reg.get('api')!.pids()[0] !== pid0, 10_000)).toBe(true);
    await f.stop();
    const d = f.detail!();
    expect(d.oomKills).toEqual([1]);
    expect(d.killed).toEqual([true]);
    expect((d.peakBytes as number[])[0]).toBeGreaterThan(90 << 20);
    expect((d.peakBytes as number[])[0]).toBeLessThanOrEqual(96 << 20);
    expect((d.restartToReadyMs as number[])[0]).toBeGreaterThan(0);
    expect((d.downMs as number[])[0]).toBeGreaterThanOrEqual(300);
    expect(f.measured!()!.summary).toMatch(/^96 MiB limit → peak 9\d MiB; limit hit \d+×; OOM-killed 1×$/);
    expect(f.measured!()!.values).toMatchObject({ 'oomKills.0': 1, 'killed.0': 1 });
    expect(mine()).toEqual([]);
    expect(journal.entries.size).toBe(0);
    // The new replica is not limited: it takes 150 MiB.
    expect((await alloc(port, 150)).held).toBe(150);
  });

  it.skipIf(!v1)('limit: a service well under it is not touched, and the fault says "no effect"', async () => {
    const { reg, port } = await service();
    const f = memory.create(spec({ limit: '256MiB' }), testCtx({ services: reg }));
    await f.start();
    await alloc(port, 10);
    await f.stop();
    const d = f.detail!();
    expect(d.limitHits).toEqual([0]);
    expect(d.oomKills).toEqual([0]);
    expect(f.measured!()!.noEffect).toBe(true);
    expect(mine()).toEqual([]);
  });

  it('hog: holds the memory it was told to (RSS measured), and is gone after the undo', async () => {
    const { reg } = await service();
    const journal = new MemoryJournal();
    const f = memory.create(spec({ hog: '64MiB' }), testCtx({ services: reg, journal }));
    await f.start();
    const [entry] = [...journal.entries.values()];
    const hogPid = -(entry.undo as { pid: number }).pid;
    await sleep(200);
    await f.stop();
    const d = f.detail!();
    expect(d.heldBytes as number).toBeGreaterThan(64 * (1 << 20) * 0.95);
    expect(d.heldBytes as number).toBeLessThan(64 * (1 << 20) + (80 << 20)); // plus Node itself
    expect(await waitFor(() => isGone(hogPid), 2000)).toBe(true);
    expect(journal.entries.size).toBe(0);
  });

  it('cgroup v2 (fake cgroupfs): memory.max written beside the service\'s own cgroup, events read, undone', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fl15-cgv2-'));
    dirs.push(root);
    writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids\n');
    writeFileSync(join(root, 'cgroup.subtree_control'), '');
    // A delegated, empty parent (like a systemd slice faultline's user owns): the child goes beside the service.
    const own = join(root, 'app.slice');
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, 'cgroup.procs'), '');
    writeFileSync(join(own, 'cgroup.subtree_control'), 'memory');
    const { reg } = await service();
    const journal = new MemoryJournal();
    const f = createMemoryFault(spec({ limit: '64MiB' }), testCtx({ services: reg, journal }), {
      cgroups: { root, procCgroup: () => '0::/app.slice\n', removeDir: (d) => rmSync(d, { recursive: true }) },
    });
    await f.start();
    const [entry] = [...journal.entries.values()];
    const dir = (entry.undo as { dirs: { dir: string }[] }).dirs[0].dir;
    expect(dir.startsWith(own + '/faultline-')).toBe(true);
    expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe(String(64 << 20));
    expect(existsSync(join(dir, 'memory.move_charge_at_immigrate'))).toBe(false); // v1 only
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\n');
    writeFileSync(join(dir, 'memory.peak'), String(64 << 20));
    await f.stop();
    const d = f.detail!();
    expect(d).toMatchObject({ limitHits: [17], oomKills: [1], peakBytes: [64 << 20] });
    expect(existsSync(dir)).toBe(false);
    expect(journal.entries.size).toBe(0);
  });
});
