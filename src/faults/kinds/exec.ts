/**
 * exec: a shell command to inject and one to undo, with the run's facts as
 * FAULTLINE_* environment variables; with `ready`, the command holds the fault
 * while it runs.
 */
import { z } from 'zod';
import { zPositiveDuration } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase } from '../types.ts';
import { runShell, describeFailure, factsEnv } from '../shell.ts';
import { HeldProcess, waitReady as waitEffect, probeUntil, describeCondition, zReady, zUndone } from '../readiness.ts';

const execParams = z.strictObject({
  /** Run through /bin/sh when the fault starts; a non-zero exit is a fault error. */
  command: z.string().min(1),
  /** Run through /bin/sh when the fault stops (also after a failed start). */
  undo: z.string().min(1).optional(),
  /**
   * The command holds the fault while it runs (a lock held by `psql`, a `kubectl port-forward`):
   * the effect is in place when this holds (its first output line, a probe, or still running
   * after a grace time), and ends when the command has exited — by itself, or stopped
   * (SIGTERM to its process group) at the fault's end. Without it, the command sets the
   * fault and returns, and the effect counts from its return.
   */
  ready: zReady.optional(),
  /** The undo has taken effect when this probe holds (e.g. the port accepts again), not merely when it returned. */
  undone: zUndone.optional(),
  /** For each of command and undo. */
  timeout: zPositiveDuration.default(10_000),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
});

class ExecFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly params: z.output<typeof execParams>;
  private readonly env: Record<string, string>;
  private started = false;
  private undone = false;
  private journalId?: string;
  private heldJournalId?: string;
  private held?: HeldProcess;
  private injectMs?: number;
  private readyMs?: number;
  private undoMs?: number;
  private undoneWaitMs?: number;
  private exitedBeforeStop?: string;

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.params = execParams.parse(spec.params);
    // Only faultline's own variables are journalled; the undo in `recover` adds them to its environment.
    this.env = {
      ...factsEnv(ctx.facts),
      FAULTLINE_FAULT: spec.name,
      ...(spec.target === undefined ? {} : { FAULTLINE_TARGET: spec.target }),
      ...this.params.env,
    };
  }

  async start(): Promise<number | void> {
    this.started = true;
    const { command, undo, timeout, cwd, ready } = this.params;
    if (undo) {
      this.journalId = await this.ctx.journal.record({
        fault: this.spec.name,
        kind: this.spec.kind,
        undo: { type: 'exec', command: undo, cwd: cwd ?? process.cwd(), env: this.env, timeoutMs: timeout },
      });
    }
    if (ready) {
      const t0 = performance.now();
      this.held = await HeldProcess.spawn(command, {
        env: { ...process.env, ...this.env },
        cwd,
        // Journalled before the command runs: recover ends the group after a kill -9.
        beforeRun: async (pid, pidStart) => {
          this.heldJournalId = await this.ctx.journal.record({ fault: this.spec.name, kind: this.spec.kind, undo: { type: 'signal', pid: -pid, signal: 'SIGKILL', pidStart } });
        },
      });
      const at = await waitEffect(this.held, ready).catch((e: Error) => {
        throw new Error(`exec ${JSON.stringify(command)}: ${e.message}`);
      });
      this.readyMs = Math.round(performance.now() - t0);
      void this.held.exited.then((e) => {
        if (!this.undone) this.exitedBeforeStop = e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`;
      });
      return at;
    }
    const r = await runShell(command, { env: { ...process.env, ...this.env }, cwd, timeoutMs: timeout });
    this.injectMs = Math.round(r.ms);
    if (r.code !== 0) throw new Error(describeFailure(`exec ${JSON.stringify(command)}`, r, timeout));
  }

  /** A held command that exits by itself has ended its effect, whatever the duration said. */
  effectEnded(): Promise<void> | undefined {
    return this.held?.exited.then(() => undefined);
  }

  async stop(): Promise<number | void> {
    const { undo, timeout, cwd, undone } = this.params;
    if (!this.started || this.undone) return;
    this.undone = true;
    let at: number | undefined;
    if (this.held) {
      at = await this.held.release();
      if (this.heldJournalId) await this.ctx.journal.clear(this.heldJournalId);
    }
    if (undo) {
      const r = await runShell(undo, { env: { ...process.env, ...this.env }, cwd, timeoutMs: timeout });
      this.undoMs = Math.round(r.ms);
      if (r.code !== 0) throw new Error(describeFailure(`undo ${JSON.stringify(undo)}`, r, timeout));
      at = performance.timeOrigin + performance.now();
    }
    if (undone) {
      const t0 = performance.now();
      const t = await probeUntil(undone);
      this.undoneWaitMs = Math.round(performance.now() - t0);
      if (t === undefined) throw new Error(`undo of ${this.spec.name} did not take effect: waited ${undone.timeout / 1000}s for ${describeCondition(undone)}`);
      at = t;
    }
    if (this.journalId) await this.ctx.journal.clear(this.journalId);
    return at;
  }

  detail(): Record<string, unknown> {
    return {
      injectMs: this.injectMs,
      ...(this.readyMs !== undefined ? { readyMs: this.readyMs } : {}),
      ...(this.exitedBeforeStop ? { commandEnded: this.exitedBeforeStop } : {}),
      undoMs: this.undoMs,
      ...(this.undoneWaitMs !== undefined ? { undoneWaitMs: this.undoneWaitMs } : {}),
    };
  }
}

export const exec: FaultKind = {
  name: 'exec',
  params: execParams,
  targets: 'any',
  describe: 'run a shell command to inject (docker, kubectl, a cloud CLI) and one to undo, each with a timeout; facts as FAULTLINE_* env vars',
  create: (spec, ctx) => new ExecFault(spec, ctx),
};
