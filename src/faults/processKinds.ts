/**
 * Process and exec fault kinds:
 *
 * - `kill` / `terminate`: SIGKILL / SIGTERM to a managed service's replicas
 *   (their whole process group) or to a pid; with `restart: 2s` a managed
 *   replica is started again after that delay and its time to ready measured.
 * - `pause`: SIGSTOP, and SIGCONT when the fault stops; a detached watchdog
 *   resumes the pids even if faultline is killed.
 * - `exec`: a shell command to inject and one to undo, with the run's facts as
 *   FAULTLINE_* environment variables.
 *
 * Replica selection (Chaos Monkey / AWS FIS style): `replicas: "50%"` or
 * `count: 2` picks that many of the replicas running at that moment, at random
 * from the scenario's seed; a percentage rounds down but picks at least one.
 * Without either, every replica is hit. `pid: 1234` or `pidfile: path` target
 * a process faultline does not own (no restart possible).
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { zDuration, zPercent, zPositiveDuration } from '../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase } from './types.ts';
import { processStartTime, processState, sendSignal } from '../services/proc.ts';
import { armWatchdog, type Watchdog } from './watchdog.ts';
import { runShell, describeFailure, factsEnv } from './shell.ts';
import { HeldProcess, waitReady as waitEffect, probeUntil, describeCondition, zReady, zUndone } from './readiness.ts';

// ---------------------------------------------------------------- targets

const selectionKeys = {
  /** Fraction of the running replicas to hit ("50%"). */
  replicas: zPercent.optional(),
  /** Number of running replicas to hit. */
  count: z.int().min(1).optional(),
  /** A process faultline does not own. */
  pid: z.int().min(2).optional(),
  /** A file holding the pid of a process faultline does not own (read when the fault starts). */
  pidfile: z.string().min(1).optional(),
};

type Selection = { replicas?: number; count?: number; pid?: number; pidfile?: string };

function checkSelection(s: Selection, ctx: z.RefinementCtx): void {
  if (s.replicas !== undefined && s.count !== undefined) ctx.addIssue({ code: 'custom', path: ['count'], message: 'give `replicas` or `count`, not both' });
  if (s.pid !== undefined && s.pidfile !== undefined) ctx.addIssue({ code: 'custom', path: ['pidfile'], message: 'give `pid` or `pidfile`, not both' });
  if ((s.pid !== undefined || s.pidfile !== undefined) && (s.replicas !== undefined || s.count !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['replicas'], message: '`replicas`/`count` choose among a service\'s replicas; they do not apply to a pid' });
  }
}

/** A process a fault acts on: a managed replica (signalled as a process group) or a plain pid. */
interface Target {
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

async function resolveTargets(spec: FaultSpecBase, sel: Selection, ctx: FaultContext): Promise<Target[]> {
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

function signalAll(targets: Target[], signal: NodeJS.Signals): string[] {
  const missing: string[] = [];
  for (const t of targets) if (!sendSignal(t.signalPid, signal)) missing.push(t.describe);
  return missing;
}

// ---------------------------------------------------------------- kill / terminate

const killParams = z
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

class SignalFault implements Fault {
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

/** Running or runnable per /proc (false when stopped, gone, or /proc is unavailable). */
function isRunning(pid: number): boolean {
  const st = processState(pid);
  return st === 'R' || st === 'S' || st === 'D';
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

const kill: FaultKind = {
  params: killParams,
  targets: 'service-or-pid',
  describe: 'SIGKILL a service\'s replicas (all, `replicas: "50%"` or `count: n`, seeded) or a pid; `restart: 2s` brings them back and measures time to ready',
  create: (spec, ctx) => new SignalFault(spec, ctx, 'SIGKILL'),
};

const terminate: FaultKind = {
  params: killParams,
  targets: 'service-or-pid',
  describe: 'SIGTERM a service\'s replicas or a pid (graceful shutdown); `restart: 2s` like kill',
  create: (spec, ctx) => new SignalFault(spec, ctx, 'SIGTERM'),
};

// ---------------------------------------------------------------- pause

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

const pause: FaultKind = {
  params: pauseParams,
  targets: 'service-or-pid',
  describe: 'SIGSTOP a service\'s replicas or a pid, SIGCONT at the end (a watchdog resumes them even if faultline dies)',
  create: (spec, ctx) => new PauseFault(spec, ctx),
};

// ---------------------------------------------------------------- exec

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

const exec: FaultKind = {
  params: execParams,
  targets: 'any',
  describe: 'run a shell command to inject (docker, kubectl, a cloud CLI) and one to undo, each with a timeout; facts as FAULTLINE_* env vars',
  create: (spec, ctx) => new ExecFault(spec, ctx),
};

/** Process and exec fault kinds (kill, terminate, pause, exec). */
export const processFaultKinds: Record<string, FaultKind> = { kill, terminate, pause, exec };
