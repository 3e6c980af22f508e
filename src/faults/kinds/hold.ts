/**
 * `hold`: a command that runs for the fault's duration and is stopped at its
 * end — the generic form of "lock a table":
 *
 * ```yaml
 * - kind: hold
 *   command: psql -h 127.0.0.1 -p 5432 -c BEGIN -c "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE" -c "\echo locked" -c "SELECT pg_sleep(3600)"
 *   ready: { line: locked }          # the fault starts when the lock is really held
 *   duration: 5s
 * ```
 *
 * The command runs in its own process group behind a gate (readiness.ts): its
 * group is journalled before it runs, so `faultline recover` ends it after a
 * kill -9. `ready` says when its effect is in place (a stdout line, a loopback
 * port or URL, or still running after a grace; default: still running after
 * 200 ms). At the end the group gets SIGTERM (SIGKILL after `stopGrace`), and
 * the fault ends when the command has exited — when the lock is gone.
 * Measured: how long it really held, from ready to exit; a command that
 * exited by itself before the end is reported (and flagged when it held
 * nothing).
 */
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { toMeasured, type FaultEffect } from '../resource.ts';
import { HeldProcess, waitReady, describeCondition, zReady, type ReadyCondition } from '../readiness.ts';
import { factsEnv } from '../shell.ts';

const params = z.strictObject({
  /** Run through /bin/sh, in its own process group. */
  command: z.string().min(1),
  /** When the effect is in place (default: still running after 200 ms). */
  ready: zReady.optional(),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** SIGTERM at the end, SIGKILL after this. */
  stopGrace: zDuration.default(2_000),
});

type Params = z.output<typeof params>;

const DEFAULT_READY: ReadyCondition = { running: 200, timeout: 10_000, when: 'up' };

class HoldFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly p: Params;
  private held?: HeldProcess;
  private journalId?: string;
  private readyAt?: number;
  private readyMs?: number;
  private releasedAt?: number;
  private exitedEarly?: string;
  private stopping = false;

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.p = params.parse(spec.params);
  }

  async start(): Promise<number> {
    const ready = this.p.ready ?? DEFAULT_READY;
    const env = { ...process.env, ...factsEnv(this.ctx.facts), FAULTLINE_FAULT: this.spec.name, ...(this.spec.target ? { FAULTLINE_TARGET: this.spec.target } : {}), ...this.p.env };
    const t0 = performance.now();
    this.held = await HeldProcess.spawn(this.p.command, {
      env,
      cwd: this.p.cwd,
      beforeRun: async (pid, pidStart) => {
        this.journalId = await this.ctx.journal.record({ fault: this.spec.name, kind: this.spec.kind, undo: { type: 'signal', pid: -pid, signal: 'SIGKILL', pidStart } });
      },
    });
    const held = this.held;
    this.readyAt = await waitReady(held, ready).catch((e: Error) => {
      throw new Error(`hold ${JSON.stringify(this.p.command)}: ${e.message}`);
    });
    this.readyMs = Math.round(performance.now() - t0);
    void held.exited.then((e) => {
      if (!this.stopping) this.exitedEarly = e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`;
    });
    this.ctx.log(`${this.spec.name}: holding (pid ${held.pid}) — ready on ${describeCondition(ready)} after ${this.readyMs} ms`);
    return this.readyAt;
  }

  /** A command that exits by itself has let go: the fault is over then. */
  effectEnded(): Promise<void> | undefined {
    return this.held?.exited.then(() => undefined);
  }

  async stop(): Promise<number | void> {
    if (!this.held || this.stopping) return this.releasedAt;
    this.stopping = true;
    this.releasedAt = await this.held.release(this.p.stopGrace);
    if (this.journalId) await this.ctx.journal.clear(this.journalId);
    return this.releasedAt;
  }

  detail(): Record<string, unknown> {
    return this.report().detail;
  }

  measured(): MeasuredEffect {
    return toMeasured(this.report());
  }

  private report(): { detail: Record<string, unknown>; effect: FaultEffect } {
    const heldMs = this.readyAt !== undefined && this.releasedAt !== undefined ? Math.round(this.releasedAt - this.readyAt) : undefined;
    const effect: FaultEffect = {
      setting: this.spec.duration !== undefined ? `hold ${(this.spec.duration / 1000).toFixed(1)}s` : 'hold to the end',
      measured:
        heldMs === undefined
          ? 'never held'
          : `held ${(heldMs / 1000).toFixed(2)}s (ready after ${this.readyMs} ms)${this.exitedEarly ? `; the command ${this.exitedEarly} by itself` : ''}`,
      noEffect: heldMs === undefined || heldMs <= 0 || undefined,
    };
    return { detail: { pid: this.held?.pid, readyMs: this.readyMs, heldMs, ...(this.exitedEarly ? { exitedEarly: this.exitedEarly } : {}) }, effect };
  }
}

export const hold: FaultKind = {
  name: 'hold',
  params,
  targets: 'any',
  describe: 'run a command for the fault\'s duration (lock a table), starting when `ready` (a line, port, URL, still running) says its effect is in place; stopped at the end',
  create: (spec, ctx) => new HoldFault(spec, ctx),
};
