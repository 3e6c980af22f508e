/**
 * cpu: a real service spinning on a core is throttled to a fraction of one
 * (cgroup, v1 on this machine) or crowded by pinned hogs; the CPU it got is
 * measured against the setting, and the undo gives it back. The v2 path runs
 * against a fake cgroupfs directory.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceSpecSchema } from '../../src/services/schema.ts';
import { startServices, type ManagedServices } from '../../src/services/manager.ts';
import { cpu, createCpuFault } from '../../src/faults/kinds/cpu.ts';
import { findHierarchy, faultCgroupsUnder } from '../../src/faults/cgroup.ts';
import { cpuSeconds, groupMembers } from '../../src/faults/resource.ts';
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

async function spinner(): Promise<ManagedServices> {
  const ports = await freePorts(1);
  const cwd = mkdtempSync(join(tmpdir(), 'fl15-cpu-'));
  dirs.push(cwd);
  const reg = await startServices({ api: serviceSpecSchema.parse({ command: process.execPath, args: [join(fixtures, 'service-resource.js')], ports, env: { SPIN: '1' } }) }, { cwd });
  running.push(reg);
  return reg;
}

const spec = (params: Record<string, unknown>, duration = 2000): FaultSpecBase => ({ name: 'api starved', kind: 'cpu', target: 'api', duration, params: cpu.params.parse(params) });

/** Cores a pid group used over `ms`. */
async function coresUsed(pgid: number, ms: number): Promise<number> {
  const a = cpuSeconds(groupMembers(pgid));
  const t = Date.now();
  await sleep(ms);
  return (cpuSeconds(groupMembers(pgid)) - a) / ((Date.now() - t) / 1000);
}

const v1 = findHierarchy('cpu')?.version === 1;

describe('cpu', () => {
  it.skipIf(!v1)('cgroup: a spinning service gets 0.05 core while the fault is on, and more again after the undo', async () => {
    const reg = await spinner();
    const pid = reg.get('api')!.pids()[0]!;
    const journal = new MemoryJournal();
    const ctx = testCtx({ services: reg, journal });
    // 0.05 core: a quota it reaches even when eight sessions crowd the two cores (a spinner gets more than that).
    const f = cpu.create(spec({ cores: 0.05 }), ctx);
    await f.start();
    // The undo is in the journal while the fault is on: one cgroup entry naming both controllers' directories.
    const entries = [...journal.entries.values()];
    expect(entries.map((e) => e.undo.type)).toEqual(['cgroup']);
    const during = await coresUsed(pid, 1500);
    await f.stop();
    const d = f.detail!();
    const after = await coresUsed(pid, 1000);
    expect(d.method).toBe('cgroup');
    // Measured by the cgroup, against the setting: never more than 0.05 core (+ one period's slack over
    // 1.5 s); throttled again and again, so it used its whole quota in those periods.
    const got = (d.cpuCores as number[])[0];
    expect(got).toBeGreaterThan(0.03);
    expect(got).toBeLessThan(0.05 + 0.01);
    expect(during).toBeLessThan(0.05 + 0.02);
    expect((d.throttledPeriods as number[])[0]).toBeGreaterThan(5);
    expect(f.measured!()!.noEffect).toBe(false);
    expect(f.measured!()!.summary).toMatch(/^0\.05 core → got 0\.0\d core; throttled in \d+ periods$/);
    // Undone: the cgroup is gone, the process is back in its own, the journal is empty, and it spins freely again.
    expect(faultCgroupsUnder('/sys/fs/cgroup/cpu').filter((p) => p.includes(`faultline-${process.pid}-`))).toEqual([]);
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).not.toMatch(/faultline-/);
    expect(journal.entries.size).toBe(0);
    // Free again: more than the quota allowed (its fair share of two busy cores).
    expect(after).toBeGreaterThan(got);
  });

  it.skipIf(!v1)('cgroup: a quota the service never reaches is flagged "no effect"', async () => {
    const ports = await freePorts(1);
    const cwd = mkdtempSync(join(tmpdir(), 'fl15-cpu-'));
    dirs.push(cwd);
    const reg = await startServices({ api: serviceSpecSchema.parse({ command: process.execPath, args: [join(fixtures, 'service-resource.js')], ports }) }, { cwd });
    running.push(reg);
    const f = cpu.create(spec({ cores: 0.5 }), testCtx({ services: reg }));
    await f.start();
    await sleep(500);
    await f.stop();
    const d = f.detail!();
    expect((d.throttledPeriods as number[])[0]).toBe(0);
    expect(f.measured!()!.noEffect).toBe(true);
  });

  it('hog: busy processes pinned to the service\'s CPUs take most of them; they are gone after the undo', async () => {
    const reg = await spinner();
    const pid = reg.get('api')!.pids()[0]!;
    const free = await coresUsed(pid, 800);
    const journal = new MemoryJournal();
    const f = cpu.create(spec({ method: 'hog', cores: 0.25 }), testCtx({ services: reg, journal }));
    await f.start();
    const entries = [...journal.entries.values()];
    // Two CPUs here, 3 hogs per CPU for a quarter share: 6 signal undos, one per hog group.
    expect(entries.length).toBeGreaterThanOrEqual(3);
    expect(entries.every((e) => e.undo.type === 'signal' && e.undo.pid < 0)).toBe(true);
    await sleep(1500);
    await f.stop();
    const d = f.detail!();
    const got = (d.cpuCores as number[])[0];
    expect(d.method).toBe('hog');
    expect(d.hogCpuCores as number).toBeGreaterThan(got);
    // Crowded: it got clearly less than it did alone (others share these cores too, so no exact share).
    expect(got).toBeLessThan(free * 0.75);
    for (const e of entries) expect(await waitFor(() => isGone(-(e.undo as { pid: number }).pid), 2000)).toBe(true);
    expect(journal.entries.size).toBe(0);
  });

  it('cgroup v2 (fake cgroupfs): cpu.max written, the controller enabled in the parent, processes moved in and back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fl15-cgv2-'));
    dirs.push(root);
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(join(root, 'cgroup.subtree_control'), '');
    writeFileSync(join(root, 'cgroup.procs'), '');
    // The service sits in /system.slice/api.service, which holds processes: the child must go under the root.
    const own = join(root, 'system.slice', 'api.service');
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, 'cgroup.procs'), '4242\n');
    writeFileSync(join(own, 'cgroup.subtree_control'), '');
    const reg = await spinner();
    const pid = reg.get('api')!.pids()[0]!;
    const journal = new MemoryJournal();
    const f = createCpuFault(spec({ cores: 0.5, period: '50ms' }), testCtx({ services: reg, journal }), {
      cgroups: { root, procCgroup: () => '0::/system.slice/api.service\n', removeDir: (d) => rmSync(d, { recursive: true }) },
    });
    await f.start();
    const [entry] = [...journal.entries.values()];
    const { dirs: cgDirs } = entry.undo as { dirs: { dir: string; returnTo: string }[] };
    expect(cgDirs).toHaveLength(1);
    const dir = cgDirs[0].dir;
    expect(dir).toMatch(new RegExp(`^${root}/faultline-${process.pid}-\\d+$`));
    expect(cgDirs[0].returnTo).toBe(own);
    expect(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    expect(readFileSync(join(dir, 'cpu.max'), 'utf8')).toBe('25000 50000');
    // One write per pid; the fake keeps the last, which is a pid of the service's group.
    expect(groupMembers(pid)).toContain(Number(readFileSync(join(dir, 'cgroup.procs'), 'utf8')));
    // The fake's cpu.stat says what a v2 kernel would.
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 400000\nuser_usec 300000\nsystem_usec 100000\nnr_periods 40\nnr_throttled 12\nthrottled_usec 9000\n');
    await f.stop();
    const d = f.detail!();
    expect(d.throttledPeriods).toEqual([12]);
    expect((d.cpuCores as number[])[0]).toBeGreaterThan(0);
    // Moved back (the last pid written to the service's own cgroup), then removed.
    expect(existsSync(dir)).toBe(false);
    expect(journal.entries.size).toBe(0);
  });
});
