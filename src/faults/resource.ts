/**
 * What the resource and state fault kinds (cpu, memory, disk-fill, hold, file)
 * share: the processes of a target, their CPU time and memory from /proc, and
 * helper processes (hogs, held commands) that wait for a "go" line on stdin,
 * so their undo is in the journal before they do anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { z } from 'zod';
import type { FaultContext, FaultSpecBase, MeasuredEffect } from './types.ts';
import { processStartTime, sendSignal, statFields } from '../services/proc.ts';

/** Every live pid whose process group is `pgid` (a managed replica and everything it started). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(name));
  }
  return out;
}

/** Clock ticks per second for /proc times (USER_HZ; 100 on every Linux faultline runs on). */
const TICKS = 100;

/** CPU seconds used by these processes so far (user + system, plus their reaped children). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / TICKS;
}

/** Resident memory of a pid in bytes (VmRSS), undefined when gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The CPUs a pid may run on (its affinity list, e.g. "0-1"), for pinning hogs beside it. */
export function cpusAllowed(pid: number): string | undefined {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Number of CPUs in an affinity list like "0-3,6". */
export function countCpus(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

/** Uid of a process (its real uid), undefined when gone. */
export function uidOf(pid: number): number | undefined {
  try {
    const m = /Uid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- targets

/** Target keys the resource kinds share: a managed service (all its replicas) or a pid. */
export const resourceTargetKeys = {
  /** A process faultline does not own (with its process group when it leads one). */
  pid: z.int().min(2).optional(),
};

/** One process group a fault acts on. */
export interface ResourceTarget {
  /** Process group id (a managed replica leads its own group). */
  pgid: number;
  /** The group's leader (the replica's pid). */
  pid: number;
  replica?: number;
  describe: string;
}

/** The running replicas of the fault's service, or the given pid. */
export function resourceTargets(spec: FaultSpecBase, pid: number | undefined, ctx: FaultContext): ResourceTarget[] {
  if (pid !== undefined) {
    const f = statFields(pid);
    if (!f) throw new Error(`pid ${pid} is not running`);
    return [{ pgid: Number(f[2]) === pid ? pid : -1, pid, describe: `pid ${pid}` }];
  }
  const name = spec.target;
  const svc = name === undefined ? undefined : ctx.services.get(name);
  if (!svc) throw new Error(`${spec.kind} needs a managed service as target, or a pid (target: ${JSON.stringify(name)})`);
  const running = svc.replicas().filter((r) => r.pid !== undefined && r.state !== 'stopping');
  if (running.length === 0) throw new Error(`service ${name} has no running replica`);
  return running.map((r) => ({ pgid: r.pid!, pid: r.pid!, replica: r.index, describe: `${name}[${r.index}] pid ${r.pid}` }));
}

/** Every pid of the targets now (whole process groups; a lone pid when it leads none). */
export function targetPids(targets: ResourceTarget[]): number[] {
  return [...new Set(targets.flatMap((t) => (t.pgid > 0 ? groupMembers(t.pgid) : [t.pid])))];
}

// ---------------------------------------------------------------- gated helper processes

/** A helper process that has been spawned but does nothing until go(). */
export interface GatedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** /proc start time, for the journal's reused-pid guard. */
  readonly pidStart?: string;
  /** Lets it act (writes "go" and closes its stdin). */
  go(): void;
  /** Lines of its stdout and stderr as they come. */
  onLine(fn: (line: string, stream: 'stdout' | 'stderr') => void): void;
  /** Last few KB of its output. */
  output(): string;
  /** Resolves with its exit (code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to its group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Spawns `argv` in its own process group behind a gate: it starts only when
 * it reads the line "go" on stdin, and exits without acting if its stdin closes
 * first (faultline died before it could journal the pid). `argv[0]` must be a
 * program that honours the gate: {@link shellGate} and {@link nodeGate} build those.
 */
export function spawnGated(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): GatedProcess {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`cannot run ${argv[0]}`);
  child.on('error', () => {});
  child.stdin!.on('error', () => {});
  const pid = child.pid;
  let out = '';
  const listeners: ((line: string, stream: 'stdout' | 'stderr') => void)[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream]!.on('data', (b: Buffer) => {
      const s = b.toString();
      out = (out + s).slice(-4096);
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) for (const fn of listeners) fn(l.replace(/\r$/, ''), stream);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    child,
    pid,
    pidStart: processStartTime(pid),
    go: () => child.stdin!.end('go\n'),
    onLine: (fn) => listeners.push(fn),
    output: () => out,
    exited,
    async stop(graceMs) {
      if (!gone) {
        // SIGCONT first: a stopped helper cannot act on SIGTERM.
        for (const sig of ['SIGCONT', 'SIGTERM'] as const) {
          try {
            sendSignal(-pid, sig);
          } catch {
            /* not ours any more */
          }
        }
        const t = setTimeout(() => {
          try {
            sendSignal(-pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, graceMs);
        await exited;
        clearTimeout(t);
      }
      // Anything it left in its group.
      try {
        sendSignal(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
}

/** argv for a shell command behind the gate: `sh` reads "go", then execs the command. */
export function shellGate(command: string): string[] {
  return ['/bin/sh', '-c', 'read -r go || exit 0; [ "$go" = go ] || exit 0; exec /bin/sh -c "$1"', 'faultline-hold', command];
}

/**
 * argv for a Node script behind the gate: the script (a function body with
 * `arg`, `done(line)` and `stillWanted()`) runs after "go"; the process exits
 * when faultline is gone (it is re-parented) or at `deadline` (epoch ms),
 * whichever is first — a busy loop must call `stillWanted()` now and then.
 */
export function nodeGate(body: string, arg: unknown, deadline?: number): string[] {
  const script = `
let buf = '';
let started = false;
const parent = process.ppid;
// Gone with faultline: a helper re-parented (its parent died) stops by itself.
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 200).unref?.();
const deadline = ${deadline === undefined ? 'null' : String(deadline)};
if (deadline !== null) setTimeout(() => process.exit(0), Math.max(0, deadline - Date.now())).unref?.();
process.stdin.on('data', (b) => {
  buf += b;
  if (!started && buf.startsWith('go\\n')) { started = true; run(); }
});
process.stdin.on('end', () => { if (!started) process.exit(0); });
process.stdin.on('close', () => { if (!started) process.exit(0); });
function run() {
  const stillWanted = () => process.ppid === parent && (deadline === null || Date.now() < deadline);
  const arg = ${JSON.stringify(arg)};
  const done = (line) => process.stdout.write(line + '\\n');
  ${body}
}
`;
  return [process.execPath, '-e', script];
}

// ---------------------------------------------------------------- measured effect

/** A resource fault's effect: its setting in the user's words beside what it measured. */
export interface FaultEffect {
  /** "0.25 core", "64 MiB limit", "leave 1 MiB". */
  setting: string;
  /** "got 0.18 core; throttled in 14 periods", "peak 96 MiB; OOM-killed 1×". */
  measured: string;
  /** The experiment proved nothing: the limit was never hit, nothing was filled. */
  noEffect?: boolean;
}

/** The fault table's line ("setting → measured") and the numbers of a detail, flattened (`cpuCores.0`). */
export function toMeasured(r: { detail: Record<string, unknown>; effect: FaultEffect }): MeasuredEffect {
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.detail)) {
    if (typeof v === 'number' && Number.isFinite(v)) values[k] = v;
    else if (typeof v === 'boolean') values[k] = v ? 1 : 0;
    else if (Array.isArray(v)) v.forEach((x, i) => {
      if (typeof x === 'number' && Number.isFinite(x)) values[`${k}.${i}`] = x;
      else if (typeof x === 'boolean') values[`${k}.${i}`] = x ? 1 : 0;
    });
  }
  return { summary: `${r.effect.setting} → ${r.effect.measured}`, values, noEffect: r.effect.noEffect === true };
}
