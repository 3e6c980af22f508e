/**
 * pause: SIGSTOP to a service's replicas or a pid, and SIGCONT when the fault
 * stops; a detached watchdog resumes the pids even if faultline is killed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Fault, FaultContext, FaultKind, FaultSpecBase } from '../types.ts';
import { processStartTime, processState } from '../../services/proc.ts';
import { armWatchdog, type Watchdog } from '../watchdog.ts';
import { checkSelection, isRunning, resolveTargets, selectionKeys, signalAll, type Target } from '../targets.ts';

const pauseParams = z.strictObject(selectionKeys).superRefine(checkSelection);

class PauseFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly params: z.output<typeof pauseParams>;
  private targets: Target[] = [];
  private journalIds: string[] = [];
  private watchdog?: Watchdog;
  private pausedAt?: number;
  private resumedAt?: number;

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.params = pauseParams.parse(spec.params);
  }

  async start(): Promise<void> {
    this.targets = await resolveTargets(this.spec, this.params, this.ctx);
    // Undo is in place before the first SIGSTOP: a journal entry per pid and a watchdog.
    for (const t of this.targets) {
      this.journalIds.push(
        await this.ctx.journal.record({
          fault: this.spec.name,
          kind: this.spec.kind,
          undo: { type: 'signal', pid: t.signalPid, signal: 'SIGCONT', pidStart: processStartTime(t.pid) },
        }),
      );
    }
    const deadline = this.spec.duration === undefined ? undefined : Date.now() + this.spec.duration;
    this.watchdog = armWatchdog(this.targets.map((t) => t.signalPid), { deadline });
    this.pausedAt = Date.now();
    signalAll(this.targets, 'SIGSTOP');
    // A stop is delivered when the process is next scheduled: wait until it has taken
    // effect (bounded), so the fault-start event means "stopped now".
    const until = Date.now() + 500;
    while (this.targets.some((t) => isRunning(t.pid)) && Date.now() < until) await sleep(2);
    this.ctx.log(`${this.spec.name}: SIGSTOP → ${this.targets.map((t) => t.describe).join(', ')} (watchdog pid ${this.watchdog.pid})`);
  }

  async stop(): Promise<void> {
    signalAll(this.targets, 'SIGCONT');
    const until = Date.now() + 500;
    while (this.targets.some((t) => processState(t.pid) === 'T') && Date.now() < until) await sleep(2);
    if (this.pausedAt !== undefined && this.resumedAt === undefined) this.resumedAt = Date.now();
    this.watchdog?.disarm();
    this.watchdog = undefined;
    const ids = this.journalIds.splice(0);
    for (const id of ids) await this.ctx.journal.clear(id);
  }

  /** Pid of the armed watchdog (for tests and diagnostics). */
  watchdogPid(): number | undefined {
    return this.watchdog?.pid;
  }

  detail(): Record<string, unknown> {
    const d: Record<string, unknown> = { pids: this.targets.map((t) => t.pid) };
    if (this.targets.some((t) => t.replica !== undefined)) d.replicas = this.targets.map((t) => t.replica);
    if (this.pausedAt !== undefined && this.resumedAt !== undefined) d.pausedMs = this.resumedAt - this.pausedAt;
    return d;
  }
}

export const pause: FaultKind = {
  name: 'pause',
  params: pauseParams,
  targets: 'service-or-pid',
  describe: 'SIGSTOP a service\'s replicas or a pid, SIGCONT at the end (a watchdog resumes them even if faultline dies)',
  create: (spec, ctx) => new PauseFault(spec, ctx),
};
