/**
 * Which processes a process fault acts on. Replica selection (Chaos Monkey /
 * AWS FIS style): `replicas: "50%"` or `count: 2` picks that many of the
 * replicas running at that moment, at random from the scenario's seed; a
 * percentage rounds down but picks at least one. Without either, every replica
 * is hit. `pid: 1234` or `pidfile: path` target a process faultline does not
 * own (no restart possible).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { zPercent } from '../config/units.ts';
import type { FaultContext, FaultSpecBase } from './types.ts';
import { processState, sendSignal } from '../services/proc.ts';

export const selectionKeys = {
  /** Fraction of the running replicas to hit ("50%"). */
  replicas: zPercent.optional(),
  /** Number of running replicas to hit. */
  count: z.int().min(1).optional(),
  /** A process faultline does not own. */
  pid: z.int().min(2).optional(),
  /** A file holding the pid of a process faultline does not own (read when the fault starts). */
  pidfile: z.string().min(1).optional(),
};

export type Selection = { replicas?: number; count?: number; pid?: number; pidfile?: string };

export function checkSelection(s: Selection, ctx: z.RefinementCtx): void {
  if (s.replicas !== undefined && s.count !== undefined) ctx.addIssue({ code: 'custom', path: ['count'], message: 'give `replicas` or `count`, not both' });
  if (s.pid !== undefined && s.pidfile !== undefined) ctx.addIssue({ code: 'custom', path: ['pidfile'], message: 'give `pid` or `pidfile`, not both' });
  if ((s.pid !== undefined || s.pidfile !== undefined) && (s.replicas !== undefined || s.count !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['replicas'], message: '`replicas`/`count` choose among a service\'s replicas; they do not apply to a pid' });
  }
}

/** A process a fault acts on: a managed replica (signalled as a process group) or a plain pid. */
export interface Target {
  /** Signal this: -pgid for a managed replica, the pid otherwise. */
  signalPid: number;
  pid: number;
  replica?: number;
  describe: string;
}

/** Picks `n` of `items` at random (partial Fisher–Yates on a copy), in the order picked. */
export function pickRandom<T>(items: readonly T[], n: number, random: () => number): T[] {
  const a = [...items];
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

/** How many of `running` replicas a selection hits: a percentage rounds down but is at least one. */
export function selectionSize(running: number, sel: Selection): number {
  if (sel.count !== undefined) return Math.min(sel.count, running);
  if (sel.replicas !== undefined) return sel.replicas <= 0 ? 0 : Math.min(running, Math.max(1, Math.floor(sel.replicas * running + 1e-9)));
  return running;
}

export async function resolveTargets(spec: FaultSpecBase, sel: Selection, ctx: FaultContext): Promise<Target[]> {
  if (sel.pid !== undefined || sel.pidfile !== undefined) {
    let pid = sel.pid;
    if (sel.pidfile !== undefined) {
      const text = (await readFile(sel.pidfile, 'utf8')).trim();
      pid = Number(text);
      if (!Number.isInteger(pid) || pid < 2) throw new Error(`pidfile ${sel.pidfile} does not hold a pid (${JSON.stringify(text.slice(0, 40))})`);
    }
    return [{ signalPid: pid!, pid: pid!, describe: `pid ${pid}` }];
  }
  const name = spec.target;
  const svc = name === undefined ? undefined : ctx.services.get(name);
  if (!svc) throw new Error(`${spec.kind} needs a managed service as target, or a pid/pidfile (target: ${JSON.stringify(name)})`);
  const running = svc.replicas().filter((r) => r.pid !== undefined && r.state !== 'stopping');
  if (running.length === 0) throw new Error(`service ${name} has no running replica`);
  const chosen = pickRandom(running, selectionSize(running.length, sel), ctx.random).sort((a, b) => a.index - b.index);
  return chosen.map((r) => ({ signalPid: -r.pid!, pid: r.pid!, replica: r.index, describe: `${name}[${r.index}] pid ${r.pid}` }));
}

export function signalAll(targets: Target[], signal: NodeJS.Signals): string[] {
  const missing: string[] = [];
  for (const t of targets) if (!sendSignal(t.signalPid, signal)) missing.push(t.describe);
  return missing;
}

/** Running or runnable per /proc (false when stopped, gone, or /proc is unavailable). */
export function isRunning(pid: number): boolean {
  const st = processState(pid);
  return st === 'R' || st === 'S' || st === 'D';
}
