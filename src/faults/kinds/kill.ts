/**
 * kill: SIGKILL to a managed service's replicas (their whole process group) or
 * to a pid; with `restart: 2s` a managed replica is started again after that
 * delay and its time to ready measured. `terminate` is the same with SIGTERM.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase } from '../types.ts';
import { checkSelection, resolveTargets, selectionKeys, signalAll, type Target } from '../targets.ts';

export const killParams = z
  .strictObject({
    ...selectionKeys,
    /** Restart the killed replicas after this delay and measure the time until they are ready again. */
    restart: zDuration.optional(),
  })
  .superRefine((p, ctx) => {
    checkSelection(p, ctx);
    if (p.restart !== undefined && (p.pid !== undefined || p.pidfile !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['restart'], message: '`restart` needs a managed service (faultline cannot restart a pid it does not own)' });
    }
  });

export class SignalFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly signal: NodeJS.Signals;
  private readonly params: z.output<typeof killParams>;
  private targets: Target[] = [];
  private killedAt = 0;
  private journalId?: string;
  private restarting?: Promise<void>;
  private readonly skipDelay = new AbortController();
  private readonly restarted: { replica: number; pid: number; restartToReadyMs?: number; downMs: number }[] = [];
  private missing: string[] = [];

  constructor(spec: FaultSpecBase, ctx: FaultContext, signal: NodeJS.Signals) {
    this.spec = spec;
    this.ctx = ctx;
    this.signal = signal;
    this.params = killParams.parse(spec.params);
    if (this.params.restart !== undefined && !ctx.services.restart) throw new Error(`${spec.kind} with restart needs managed services`);
  }

  async start(): Promise<void> {
    this.targets = await resolveTargets(this.spec, this.params, this.ctx);
    const what = this.targets.map((t) => t.describe).join(', ');
    const restart = this.params.restart;
    this.journalId = await this.ctx.journal.record({
      fault: this.spec.name,
      kind: this.spec.kind,
      undo: { type: 'none', note: `sent ${this.signal} to ${what}${restart === undefined ? '' : `; faultline was to restart it after ${restart} ms`}` },
    });
    this.killedAt = Date.now();
    this.missing = signalAll(this.targets, this.signal);
    this.ctx.log(`${this.spec.name}: ${this.signal} → ${what}`);
    if (restart !== undefined) this.restarting = this.restartLater(restart);
  }

  private async restartLater(delayMs: number): Promise<void> {
    await sleep(delayMs, undefined, { signal: this.skipDelay.signal }).catch(() => {});
    const name = this.spec.target!;
    const svc = this.ctx.services.get(name)!;
    await Promise.all(
      this.targets.map(async (t) => {
        const now = svc.replicas()[t.replica!];
        if (now.pid !== undefined && now.pid !== t.pid) {
          // The service's own restart policy brought it back already: measure that.
          const back = await waitReady(() => svc.replicas()[t.replica!], 30_000);
          this.restarted.push({ replica: t.replica!, pid: back.pid!, downMs: back.readyAt! - this.killedAt });
          return;
        }
        const [r] = await this.ctx.services.restart!(name, t.replica);
        this.restarted.push({ replica: t.replica!, pid: r.pid, restartToReadyMs: r.readyMs, downMs: Date.now() - this.killedAt });
      }),
    );
  }

  /** Resolves when the killed replicas are ready again (at once when no restart was asked for). */
  finished(): Promise<void> {
    return (this.restarting ?? Promise.resolve()).catch(() => {});
  }

  async stop(): Promise<void> {
    // Stopping early (run ending, undo on abort) restarts now rather than after the delay.
    this.skipDelay.abort();
    try {
      await this.restarting;
    } finally {
      if (this.journalId) await this.ctx.journal.clear(this.journalId);
      this.journalId = undefined;
    }
  }

  detail(): Record<string, unknown> {
    const d: Record<string, unknown> = { signal: this.signal, pids: this.targets.map((t) => t.pid) };
    if (this.targets.some((t) => t.replica !== undefined)) d.replicas = this.targets.map((t) => t.replica);
    if (this.missing.length) d.alreadyGone = this.missing;
    if (this.params.restart !== undefined) {
      const sorted = [...this.restarted].sort((a, b) => a.replica - b.replica);
      d.restartDelayMs = this.params.restart;
      d.restartedPids = sorted.map((r) => r.pid);
      d.restartToReadyMs = sorted.map((r) => r.restartToReadyMs);
      // From the signal to ready again, per replica: the outage a client saw.
      d.downMs = sorted.map((r) => r.downMs);
    } else if (this.spec.target !== undefined && this.targets.some((t) => t.replica !== undefined)) {
      // No restart of its own: report replicas the service's restart policy brought back
      // before the fault stopped (give the fault a duration to leave room for that).
      const now = this.ctx.services.get(this.spec.target)?.replicas() ?? [];
      d.downMs = this.targets.map((t) => {
        const r = now[t.replica!];
        return r && r.pid !== undefined && r.pid !== t.pid && r.state === 'ready' && r.readyAt! >= this.killedAt ? r.readyAt! - this.killedAt : null;
      });
    }
    return d;
  }
}

async function waitReady<T extends { state: string; pid?: number; readyAt?: number }>(get: () => T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = get();
    if (r.state === 'ready' && r.readyAt !== undefined) return r;
    if (Date.now() > deadline) throw new Error('replica did not become ready again');
    await sleep(20);
  }
}

export const kill: FaultKind = {
  name: 'kill',
  params: killParams,
  targets: 'service-or-pid',
  describe: 'SIGKILL a service\'s replicas (all, `replicas: "50%"` or `count: n`, seeded) or a pid; `restart: 2s` brings them back and measures time to ready',
  create: (spec, ctx) => new SignalFault(spec, ctx, 'SIGKILL'),
};
