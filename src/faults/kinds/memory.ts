/**
 * `memory`: squeeze a service's memory.
 *
 * - `limit: 64MiB` — each replica goes into its own cgroup with that memory
 *   limit (v2 `memory.max`, v1 `memory.limit_in_bytes`). What it held before
 *   stays charged where it was (v1 moves it with `move_charge_at_immigrate`
 *   where the kernel still allows that, before 6.x), so the limit bounds what
 *   it allocates during the fault. Past the limit the
 *   kernel reclaims (squeezed) and then OOM-kills it. With `restart: 1s` a
 *   replica that was killed is started again after that delay (outside the
 *   limit, as a supervisor would) and its restart-to-ready is measured as for
 *   `kill`. Measured: peak usage, limit hits, OOM kills.
 * - `hog: 512MiB` — a process beside the service holds that much memory
 *   (every page touched) for the fault's duration. Measured: what it really
 *   held (RSS) and what the machine had left.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { zBytes, zDuration } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { toMeasured, type FaultEffect } from '../resource.ts';
import { FaultCgroup, type CgroupOptions } from '../cgroup.ts';
import { nodeGate, resourceTargetKeys, resourceTargets, rssBytes, spawnGated, targetPids, type GatedProcess, type ResourceTarget } from '../resource.ts';

const params = z
  .strictObject({
    ...resourceTargetKeys,
    /** cgroup memory limit per replica. */
    limit: zBytes.optional(),
    /** A process beside the service holding this much memory. */
    hog: zBytes.optional(),
    /** Restart a replica the limit killed, after this delay (restart-to-ready measured). */
    restart: zDuration.optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.limit === undefined) === (p.hog === undefined)) ctx.addIssue({ code: 'custom', path: ['limit'], message: 'give `limit` (a cgroup limit on the service, e.g. "64MiB") or `hog` (memory held beside it), one of the two' });
    if (p.limit !== undefined && p.limit < 1 << 20) ctx.addIssue({ code: 'custom', path: ['limit'], message: 'a limit under 1 MiB would kill the service before it could show anything' });
    if (p.restart !== undefined && p.limit === undefined) ctx.addIssue({ code: 'custom', path: ['restart'], message: '`restart` is for a `limit` that OOM-kills the service' });
    if (p.restart !== undefined && p.pid !== undefined) ctx.addIssue({ code: 'custom', path: ['restart'], message: '`restart` needs a managed service (faultline cannot restart a pid it does not own)' });
  });

type Params = z.output<typeof params>;

export interface MemoryOptions {
  cgroups?: CgroupOptions;
}

interface Limited {
  target: ResourceTarget;
  cg: FaultCgroup;
  journalId: string;
  killedAt?: number;
  /** v1: whether the pages it held already count against the limit. */
  chargesMoved?: boolean;
  restart?: { pid?: number; readyMs?: number; downMs?: number; error?: string };
  peak?: number;
  hits?: number;
  oomKills?: number;
}

const mib = (b: number) => `${(b / (1 << 20)).toFixed(b < 10 << 20 ? 1 : 0)} MiB`;

/** v1 memory.oom_control / v2 memory.events counters. */
function counter(text: string | undefined, key: string): number | undefined {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text ?? '');
  return m ? Number(m[1]) : undefined;
}

const HOG = `
  const held = [];
  const mb = arg;
  for (let i = 0; i < mb; i++) held.push(Buffer.alloc(1 << 20, 1 + (i % 250)));
  done('held ' + mb);
  setInterval(() => { if (!stillWanted()) process.exit(0); }, 200);
`;

function memAvailable(): number | undefined {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

class MemoryFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly p: Params;
  private readonly opts: MemoryOptions;
  private limited: Limited[] = [];
  private watching?: Promise<void>;
  private readonly done = new AbortController();
  private hog?: { proc: GatedProcess; journalId: string; rss?: number; memAvail?: number; exit?: string };
  private stopped = false;

  constructor(spec: FaultSpecBase, ctx: FaultContext, opts: MemoryOptions = {}) {
    this.spec = spec;
    this.ctx = ctx;
    this.p = params.parse(spec.params);
    this.opts = opts;
    if (this.p.restart !== undefined && !ctx.services.restart) throw new Error('memory with restart needs managed services');
  }

  async start(): Promise<void> {
    if (this.p.hog !== undefined) return this.startHog(this.p.hog);
    const targets = resourceTargets(this.spec, this.p.pid, this.ctx);
    const limit = Math.floor(this.p.limit!);
    for (const target of targets) {
      const cg = FaultCgroup.plan(target.pid, ['memory'], this.opts.cgroups);
      const journalId = await this.ctx.journal.record({ fault: this.spec.name, kind: this.spec.kind, undo: cg.undo() });
      const l: Limited = { target, cg, journalId };
      this.limited.push(l);
      cg.create();
      const v1 = cg.version('memory') === 1;
      // v1 charges a moved process's pages to the new cgroup only when asked (anonymous + file pages);
      // kernels from 6.x refuse (EINVAL): there, and on v2, only memory allocated from now on counts.
      if (v1) {
        try {
          cg.write('memory', 'memory.move_charge_at_immigrate', '3');
          l.chargesMoved = true;
        } catch {
          l.chargesMoved = false;
        }
      }
      cg.add(targetPids([target]));
      try {
        cg.write('memory', v1 ? 'memory.limit_in_bytes' : 'memory.max', String(limit));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY') throw e;
        const usage = Number(cg.read('memory', 'memory.usage_in_bytes') ?? 0);
        throw new Error(`${target.describe} holds ${mib(usage)} and cannot be reclaimed below the ${mib(limit)} limit (cgroup v1 refuses such a limit; v2 would OOM-kill it): set a limit above ${mib(usage)}`);
      }
      this.ctx.log(`${this.spec.name}: ${target.describe} limited to ${mib(limit)} in ${cg.dirs[0]!.dir}`);
    }
    this.watching = this.watch();
  }

  /** Notices replicas the limit killed; restarts them after the delay when asked. */
  private async watch(): Promise<void> {
    const restarts: Promise<void>[] = [];
    while (!this.done.signal.aborted) {
      for (const l of this.limited) {
        if (l.killedAt !== undefined || l.target.replica === undefined) continue;
        const now = this.ctx.services.get(this.spec.target!)?.replicas()[l.target.replica];
        if (now && now.pid !== l.target.pid) {
          l.killedAt = Date.now();
          this.ctx.log(`${this.spec.name}: ${l.target.describe} is gone`);
          if (this.p.restart !== undefined) restarts.push(this.restartLater(l, this.p.restart));
        }
      }
      await sleep(50, undefined, { signal: this.done.signal }).catch(() => {});
    }
    await Promise.all(restarts);
  }

  private async restartLater(l: Limited, delayMs: number): Promise<void> {
    await sleep(delayMs);
    try {
      const now = this.ctx.services.get(this.spec.target!)!.replicas()[l.target.replica!];
      if (now.pid !== undefined && now.state === 'ready' && now.readyAt! >= l.killedAt!) {
        l.restart = { pid: now.pid, downMs: now.readyAt! - l.killedAt! }; // its own restart policy was first
        return;
      }
      const [r] = await this.ctx.services.restart!(this.spec.target!, l.target.replica);
      l.restart = { pid: r.pid, readyMs: r.readyMs, downMs: Date.now() - l.killedAt! };
    } catch (e) {
      l.restart = { error: (e as Error).message };
    }
  }

  private async startHog(bytes: number): Promise<void> {
    const mb = Math.ceil(bytes / (1 << 20));
    const deadline = this.spec.duration === undefined ? undefined : Date.now() + this.spec.duration + 5_000;
    const proc = spawnGated(nodeGate(HOG, mb, deadline), { env: { ...process.env, NODE_OPTIONS: '' } });
    const journalId = await this.ctx.journal.record({ fault: this.spec.name, kind: this.spec.kind, undo: { type: 'signal', pid: -proc.pid, signal: 'SIGKILL', pidStart: proc.pidStart } });
    this.hog = { proc, journalId };
    const held = new Promise<boolean>((res) => {
      proc.onLine((line) => line.startsWith('held ') && res(true));
      void proc.exited.then(() => res(false));
    });
    proc.go();
    const ok = await Promise.race([held, sleep(30_000).then(() => false)]);
    if (!ok) {
      const ex = await Promise.race([proc.exited, sleep(10).then(() => undefined)]);
      throw new Error(`the memory hog did not hold ${mib(bytes)}${ex ? ` (it exited: ${ex.signal ?? `code ${ex.code}`}${ex.signal === 'SIGKILL' ? ', likely the OOM killer' : ''})` : ' within 30s'}`);
    }
    this.hog.rss = rssBytes(proc.pid);
    this.hog.memAvail = memAvailable();
    this.ctx.log(`${this.spec.name}: hog pid ${proc.pid} holds ${mib(this.hog.rss ?? 0)}`);
  }

  private measure(): void {
    for (const l of this.limited) {
      if (l.peak !== undefined) continue;
      const v1 = l.cg.version('memory') === 1;
      l.peak = Number(l.cg.read('memory', v1 ? 'memory.max_usage_in_bytes' : 'memory.peak') ?? NaN);
      if (v1) {
        l.hits = Number(l.cg.read('memory', 'memory.failcnt') ?? NaN);
        l.oomKills = counter(l.cg.read('memory', 'memory.oom_control'), 'oom_kill');
      } else {
        const ev = l.cg.read('memory', 'memory.events');
        l.hits = counter(ev, 'max');
        l.oomKills = counter(ev, 'oom_kill');
      }
    }
    if (this.hog && this.hog.exit === undefined) {
      const r = rssBytes(this.hog.proc.pid);
      if (r === undefined) this.hog.exit = 'exited before the end';
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.measure();
    this.done.abort();
    const errors: string[] = [];
    for (const l of this.limited) {
      try {
        l.cg.destroy();
        await this.ctx.journal.clear(l.journalId);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    await this.watching;
    if (this.hog) {
      await this.hog.proc.stop(500);
      await this.ctx.journal.clear(this.hog.journalId);
    }
    this.stopped = true;
    if (errors.length) throw new Error(errors.join('; '));
  }

  detail(): Record<string, unknown> {
    return this.report().detail;
  }

  measured(): MeasuredEffect {
    return toMeasured(this.report());
  }

  private report(): { detail: Record<string, unknown>; effect: FaultEffect } {
    if (this.hog) {
      const { rss, memAvail } = this.hog;
      const setting = this.p.hog!;
      const effect: FaultEffect = {
        setting: `hog ${mib(setting)}`,
        measured: rss === undefined ? 'hog not running' : `held ${mib(rss)}${memAvail !== undefined ? `; ${mib(memAvail)} left on the machine` : ''}${this.hog.exit ? `; ${this.hog.exit}` : ''}`,
        noEffect: rss === undefined || rss < setting * 0.5 || undefined,
      };
      return { detail: { method: 'hog', hogBytes: setting, heldBytes: rss ?? null, memAvailableBytes: memAvail ?? null }, effect };
    }
    const list = this.limited;
    const d: Record<string, unknown> = {
      method: 'cgroup',
      limitBytes: this.p.limit,
      replicas: list.map((l) => l.target.replica ?? null),
      peakBytes: list.map((l) => (Number.isFinite(l.peak) ? l.peak : null)),
      limitHits: list.map((l) => l.hits ?? null),
      oomKills: list.map((l) => l.oomKills ?? null),
      killed: list.map((l) => l.killedAt !== undefined),
      // false: only memory allocated after the fault started counted against the limit.
      chargesMoved: list.map((l) => l.chargesMoved ?? false),
    };
    if (this.p.restart !== undefined) {
      d.restartDelayMs = this.p.restart;
      d.restartToReadyMs = list.filter((l) => l.killedAt !== undefined).map((l) => l.restart?.readyMs ?? null);
      d.downMs = list.filter((l) => l.killedAt !== undefined).map((l) => l.restart?.downMs ?? null);
      const errs = list.flatMap((l) => (l.restart?.error ? [l.restart.error] : []));
      if (errs.length) d.restartErrors = errs;
    }
    const killed = list.filter((l) => l.killedAt !== undefined).length;
    const ooms = list.reduce((a, l) => a + (l.oomKills ?? 0), 0);
    const hits = list.reduce((a, l) => a + (l.hits ?? 0), 0);
    const peak = list.map((l) => (Number.isFinite(l.peak) ? mib(l.peak!) : '?')).join(', ');
    const effect: FaultEffect = {
      setting: `${mib(this.p.limit!)} limit`,
      measured: `peak ${peak}; limit hit ${hits}×; ${ooms || killed ? `OOM-killed ${Math.max(ooms, killed)}×` : 'not killed'}`,
      noEffect: (hits === 0 && ooms === 0 && killed === 0) || undefined,
    };
    return { detail: d, effect };
  }
}

export const memory: FaultKind = {
  name: 'memory',
  params,
  targets: 'service-or-pid',
  describe: 'a cgroup memory `limit` per replica (squeezed, then OOM-killed; `restart: 1s` brings it back and measures time to ready), or a `hog` holding N MiB beside it',
  create: (spec, ctx) => new MemoryFault(spec, ctx),
};

/** For tests: a memory fault on a fake cgroupfs. */
export function createMemoryFault(spec: FaultSpecBase, ctx: FaultContext, opts: MemoryOptions): Fault {
  return new MemoryFault(spec, ctx, opts);
}
