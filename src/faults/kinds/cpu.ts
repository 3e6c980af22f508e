/**
 * `cpu`: starve a service of CPU.
 *
 * - `method: cgroup` — each replica goes into its own cgroup with a CFS quota of
 *   `cores` (v2 `cpu.max`, v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`); the CPU
 *   it got is read from the cgroup (`cpuacct.usage`, v2 `cpu.stat`).
 * - `method: hog` — busy processes pinned (taskset) to the CPUs the service may
 *   run on compete with it; `hogs` of them, or as many per CPU as leave it
 *   `cores` of a fair share (0.25 → 3 per CPU). The CPU it got is read from
 *   /proc (its process group's user + system time).
 * - default (`auto`): cgroup when the cpu controller is there, hog otherwise.
 *
 * The fault table shows the setting beside the CPU the service really used
 * while the fault was on; a quota never reached (the service was never
 * throttled) is flagged "no effect".
 */
import { z } from 'zod';
import { zPositiveDuration } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { toMeasured, type FaultEffect } from '../resource.ts';
import { FaultCgroup, findHierarchy, type CgroupOptions } from '../cgroup.ts';
import { countCpus, cpuSeconds, cpusAllowed, nodeGate, resourceTargetKeys, resourceTargets, spawnGated, targetPids, type GatedProcess, type ResourceTarget } from '../resource.ts';

const params = z
  .strictObject({
    ...resourceTargetKeys,
    /** CPU the service may use, in cores (0.25 = a quarter of one core). */
    cores: z.number().positive().optional(),
    method: z.enum(['auto', 'cgroup', 'hog']).default('auto'),
    /** hog: number of busy processes (default: enough per CPU to leave `cores`, else one per CPU). */
    hogs: z.int().min(1).max(256).optional(),
    /** cgroup: the CFS period (the quota is cores × period). */
    period: zPositiveDuration.default(100),
  })
  .superRefine((p, ctx) => {
    if (p.method === 'cgroup' && p.cores === undefined) ctx.addIssue({ code: 'custom', path: ['cores'], message: 'the cgroup method needs `cores` (e.g. 0.25)' });
    if (p.method !== 'hog' && p.hogs !== undefined && p.method !== 'auto') ctx.addIssue({ code: 'custom', path: ['hogs'], message: '`hogs` is for method: hog' });
    if (p.cores === undefined && p.hogs === undefined) ctx.addIssue({ code: 'custom', path: ['cores'], message: 'give `cores` (the CPU the service may use, e.g. 0.25) or `hogs` (busy processes beside it)' });
    if (p.period < 1 || p.period > 1000) ctx.addIssue({ code: 'custom', path: ['period'], message: 'expected a CFS period between 1ms and 1s' });
  });

type Params = z.output<typeof params>;

/** Options for tests: a fake cgroupfs. */
export interface CpuOptions {
  cgroups?: CgroupOptions;
}

interface Watched {
  target: ResourceTarget;
  cg?: FaultCgroup;
  journalId?: string;
  cpu0: number;
  throttled0: number;
  cpu?: number;
  throttled?: number;
}

/** CPU seconds a cgroup has used. */
function cgroupCpu(cg: FaultCgroup): number {
  if (cg.version('cpuacct') === 1) return Number(cg.read('cpuacct', 'cpuacct.usage') ?? 0) / 1e9;
  return Number(/usage_usec (\d+)/.exec(cg.read('cpuacct', 'cpu.stat') ?? '')?.[1] ?? 0) / 1e6;
}

function throttledPeriods(cg: FaultCgroup): number {
  return Number(/nr_throttled (\d+)/.exec(cg.read('cpu', 'cpu.stat') ?? '')?.[1] ?? 0);
}

const HOG = `
  let n = 0;
  for (;;) {
    for (let i = 0; i < 2e6; i++) n = (n + i) | 0;
    if (!stillWanted()) process.exit(0);
  }
`;

class CpuFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly p: Params;
  private readonly opts: CpuOptions;
  private method: 'cgroup' | 'hog' = 'cgroup';
  private watched: Watched[] = [];
  private hogs: { proc: GatedProcess; journalId: string }[] = [];
  private hogCpu?: number;
  private t0 = 0;
  private t1?: number;
  private cpusList?: string;

  constructor(spec: FaultSpecBase, ctx: FaultContext, opts: CpuOptions = {}) {
    this.spec = spec;
    this.ctx = ctx;
    this.p = params.parse(spec.params);
    this.opts = opts;
  }

  async start(): Promise<void> {
    const targets = resourceTargets(this.spec, this.p.pid, this.ctx);
    const canCgroup = findHierarchy('cpu', this.opts.cgroups?.root) !== undefined && this.p.cores !== undefined && this.p.hogs === undefined;
    this.method = this.p.method === 'auto' ? (canCgroup ? 'cgroup' : 'hog') : this.p.method;
    if (this.method === 'cgroup') await this.startCgroup(targets);
    else await this.startHogs(targets);
    this.t0 = Date.now();
  }

  private async startCgroup(targets: ResourceTarget[]): Promise<void> {
    const cores = this.p.cores!;
    const periodUs = Math.round(this.p.period * 1000);
    const quotaUs = Math.max(1000, Math.round(cores * periodUs));
    for (const target of targets) {
      const cg = FaultCgroup.plan(target.pid, ['cpu', 'cpuacct'], this.opts.cgroups);
      const w: Watched = { target, cg, cpu0: 0, throttled0: 0 };
      this.watched.push(w);
      w.journalId = await this.ctx.journal.record({ fault: this.spec.name, kind: this.spec.kind, undo: cg.undo() });
      cg.create();
      if (cg.version('cpu') === 1) {
        cg.write('cpu', 'cpu.cfs_period_us', String(periodUs));
        cg.write('cpu', 'cpu.cfs_quota_us', String(quotaUs));
      } else {
        cg.write('cpu', 'cpu.max', `${quotaUs} ${periodUs}`);
      }
      w.cpu0 = cgroupCpu(cg);
      w.throttled0 = throttledPeriods(cg);
      cg.add(targetPids([target]));
      this.ctx.log(`${this.spec.name}: ${target.describe} limited to ${cores} core (${quotaUs}/${periodUs} µs) in ${cg.dirs.map((d) => d.dir).join(', ')}`);
    }
  }

  private async startHogs(targets: ResourceTarget[]): Promise<void> {
    const cpus = cpusAllowed(targets[0]!.pid);
    if (!cpus) throw new Error(`cannot read the CPUs ${targets[0]!.describe} may use`);
    this.cpusList = cpus;
    const perCpu = this.p.cores !== undefined ? Math.max(1, Math.round(1 / this.p.cores - 1)) : 1;
    const n = this.p.hogs ?? countCpus(cpus) * perCpu;
    for (const target of targets) this.watched.push({ target, cpu0: cpuSeconds(targetPids([target])), throttled0: 0 });
    // A hog outlives nothing: it stops at the fault's end (+5 s) or when faultline is gone.
    const deadline = this.spec.duration === undefined ? undefined : Date.now() + this.spec.duration + 5_000;
    for (let i = 0; i < n; i++) {
      const proc = spawnGated(['taskset', '-c', cpus, ...nodeGate(HOG, null, deadline)]);
      const journalId = await this.ctx.journal.record({
        fault: this.spec.name,
        kind: this.spec.kind,
        undo: { type: 'signal', pid: -proc.pid, signal: 'SIGKILL', pidStart: proc.pidStart },
      });
      this.hogs.push({ proc, journalId });
    }
    for (const h of this.hogs) h.proc.go();
    this.ctx.log(`${this.spec.name}: ${n} busy process(es) on CPUs ${cpus} beside ${targets.map((t) => t.describe).join(', ')}`);
  }

  /** Reads what the service used; called once, before the undo. */
  private measure(): void {
    if (this.t1 !== undefined || this.t0 === 0) return;
    this.t1 = Date.now();
    for (const w of this.watched) {
      if (w.cg) {
        w.cpu = cgroupCpu(w.cg) - w.cpu0;
        w.throttled = throttledPeriods(w.cg) - w.throttled0;
      } else {
        w.cpu = cpuSeconds(targetPids([w.target])) - w.cpu0;
      }
    }
    if (this.hogs.length) this.hogCpu = cpuSeconds(this.hogs.map((h) => h.proc.pid));
  }

  async stop(): Promise<void> {
    this.measure();
    const errors: string[] = [];
    for (const w of this.watched.splice(0)) {
      try {
        w.cg?.destroy();
        if (w.journalId) await this.ctx.journal.clear(w.journalId);
      } catch (e) {
        errors.push((e as Error).message);
        this.watched.push(w); // keep it for a retry
      }
      this.done.push(w);
    }
    for (const h of this.hogs.splice(0)) {
      await h.proc.stop(500);
      await this.ctx.journal.clear(h.journalId);
      this.hogsDone++;
    }
    if (errors.length) throw new Error(errors.join('; '));
  }

  private done: Watched[] = [];
  private hogsDone = 0;

  detail(): Record<string, unknown> {
    return this.report().detail;
  }

  measured(): MeasuredEffect {
    return toMeasured(this.report());
  }

  private report(): { detail: Record<string, unknown>; effect: FaultEffect } {
    const secs = ((this.t1 ?? Date.now()) - this.t0) / 1000;
    const list = this.done.length ? this.done : this.watched;
    const got = list.map((w) => (w.cpu === undefined || secs <= 0 ? null : round3(w.cpu / secs)));
    const d: Record<string, unknown> = { method: this.method, cpuCores: got, replicas: list.map((w) => w.target.replica ?? null), measuredSeconds: round3(secs) };
    if (this.p.cores !== undefined) d.cores = this.p.cores;
    const gotText = got.map((g) => (g === null ? '?' : `${g.toFixed(2)}`)).join(', ');
    let effect: FaultEffect;
    if (this.method === 'cgroup') {
      const throttled = list.map((w) => w.throttled ?? 0);
      d.throttledPeriods = throttled;
      d.periodMs = this.p.period;
      effect = {
        setting: `${this.p.cores} core`,
        measured: `got ${gotText} core; throttled in ${throttled.join(', ')} periods`,
        noEffect: throttled.every((t) => t === 0),
      };
    } else {
      d.hogs = this.hogsDone || this.hogs.length;
      d.cpus = this.cpusList;
      if (this.hogCpu !== undefined && secs > 0) d.hogCpuCores = round3(this.hogCpu / secs);
      effect = {
        setting: `${d.hogs} busy process(es) on CPUs ${this.cpusList}${this.p.cores !== undefined ? ` (aiming at ${this.p.cores} core)` : ''}`,
        measured: `got ${gotText} core beside ${d.hogCpuCores ?? '?'} core of hogs`,
        // Hogs only matter to a service that wanted CPU: one that used next to none proved nothing.
        noEffect: got.every((g) => g !== null && g < 0.02),
      };
    }
    return { detail: d, effect };
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

export const cpu: FaultKind = {
  name: 'cpu',
  params,
  targets: 'service-or-pid',
  describe: 'starve a service of CPU: a cgroup quota of `cores` per replica (v1 or v2), or `method: hog` busy processes pinned to its CPUs; reports the CPU it got',
  create: (spec, ctx) => new CpuFault(spec, ctx),
};

/** For tests: a cpu fault on a fake cgroupfs. */
export function createCpuFault(spec: FaultSpecBase, ctx: FaultContext, opts: CpuOptions): Fault {
  return new CpuFault(spec, ctx, opts);
}
