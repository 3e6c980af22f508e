/**
 * Faults are timed by their effect, not by their command. This module says
 * *when* an effect is in place and when its undo has taken effect, for any
 * fault kind that runs a command (exec with `ready`, hold):
 *
 * - `spawnHeld` starts a command in its own process group, gated: the caller
 *   journals the group's pid *before* the command runs (a line on stdin opens
 *   the gate), so `faultline recover` can end it after kill -9.
 * - `waitReady` waits for one condition: the command's first stdout line
 *   (matching a pattern), a loopback TCP port accepting (or refusing), a
 *   loopback URL answering 2xx (or not), or the command still running after a
 *   grace time ("it blocks while it holds"). It resolves with the absolute
 *   time at which the condition was seen.
 * - `HeldProcess.release` ends the group (SIGTERM, SIGKILL after a grace) and
 *   resolves when the process has exited: that is when a lock it held is gone.
 *
 * Times are absolute (performance.timeOrigin + performance.now()), the run's clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { zPositiveDuration, isLoopbackHost } from '../config/units.ts';
import { canConnect, httpOk } from '../services/readiness.ts';
import { processStartTime } from '../services/proc.ts';

const now = () => performance.timeOrigin + performance.now();

/** A probe of a loopback port or URL; `when: down` waits for it to fail (a dependency taken away). */
const probeKeys = {
  /** A loopback TCP port that accepts connections (or, with `when: down`, refuses them). */
  port: z.int().min(1).max(65535).optional(),
  /** A loopback URL that answers 2xx to GET (or, with `when: down`, does not). */
  url: z
    .string()
    .refine((u) => URL.canParse(u) && isLoopbackHost(new URL(u).hostname), { message: 'expected a loopback URL like "http://127.0.0.1:8080/health"' })
    .optional(),
  when: z.enum(['up', 'down']).default('up'),
};

/**
 * When a command's effect is in place. Exactly one of `line`, `running`,
 * `port`, `url`. `timeout` bounds the wait (default 10 s).
 */
export const zReady = z
  .strictObject({
    /** The command's first stdout line (true), or its first line matching this regular expression. */
    line: z.union([z.literal(true), z.string().min(1)]).optional(),
    /** The command is still running after this grace time. */
    running: zPositiveDuration.optional(),
    ...probeKeys,
    timeout: zPositiveDuration.default(10_000),
  })
  .superRefine((r, ctx) => {
    const given = (['line', 'running', 'port', 'url'] as const).filter((k) => r[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `give exactly one of line, running, port, url (got ${given.length ? given.join(', ') : 'none'}), e.g. { line: "LOCK TABLE" } or { running: "500ms" }` });
    }
    if (typeof r.line === 'string') {
      try {
        new RegExp(r.line);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['line'], message: `not a regular expression: ${JSON.stringify(r.line)}` });
      }
    }
  });

/** When an undo has taken effect, beyond its command returning: a probe (`port` or `url`, `when`). */
export const zUndone = z
  .strictObject({ ...probeKeys, timeout: zPositiveDuration.default(10_000) })
  .refine((r) => (r.port === undefined) !== (r.url === undefined), { message: 'give one of port, url, e.g. { port: 5432 }' });

export type ReadyCondition = z.output<typeof zReady>;
export type UndoneCondition = z.output<typeof zUndone>;

/** One line saying what a condition waits for, for events and errors. */
export function describeCondition(c: Partial<ReadyCondition>): string {
  if (c.line === true) return 'its first output line';
  if (typeof c.line === 'string') return `an output line matching /${c.line}/`;
  if (c.running !== undefined) return `it still running after ${c.running / 1000}s`;
  const down = c.when === 'down';
  if (c.port !== undefined) return `port ${c.port} to ${down ? 'refuse' : 'accept'} connections`;
  if (c.url !== undefined) return `GET ${c.url} to ${down ? 'fail' : 'answer 2xx'}`;
  return 'nothing';
}

/** How a held command ended. */
export interface HeldExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Absolute time the process exited. */
  at: number;
}

const KEEP = 4096;

/** A command running in its own process group for as long as a fault holds. */
export class HeldProcess {
  readonly pid: number;
  /** /proc start time of the group leader: with the pid, identifies it for `recover`. */
  readonly pidStart?: string;
  /** Resolves when the process has exited (by itself or after release). Never rejects. */
  readonly exited: Promise<HeldExit>;
  private readonly child: ChildProcess;
  private out = '';
  private partial = '';
  private readonly lines: string[] = [];
  private readonly lineWaiters = new Set<(line: string) => void>();
  private exit?: HeldExit;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid!;
    this.pidStart = processStartTime(this.pid);
    child.stdout!.on('data', (b: Buffer) => {
      const s = b.toString();
      this.keep(s);
      const parts = (this.partial + s).split('\n');
      this.partial = parts.pop()!;
      for (const l of parts) this.line(l.replace(/\r$/, ''));
    });
    child.stderr!.on('data', (b: Buffer) => this.keep(b.toString()));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: now() };
        resolve(this.exit);
      });
      child.once('error', () => {
        this.exit ??= { code: null, signal: null, at: now() };
        resolve(this.exit);
      });
    });
  }

  private keep(s: string): void {
    this.out = (this.out + s).slice(-KEEP);
  }

  private line(l: string): void {
    this.lines.push(l);
    if (this.lines.length > 1000) this.lines.shift();
    for (const w of this.lineWaiters) w(l);
  }

  /**
   * Starts `command` through /bin/sh (or an argv without a shell) in its own
   * process group. It waits on a gate: `beforeRun(pid, pidStart)` is called
   * first (journal the undo there), then the command runs with an empty stdin.
   */
  static async spawn(
    command: string | string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string; beforeRun?: (pid: number, pidStart: string | undefined) => Promise<void> },
  ): Promise<HeldProcess> {
    const gate = 'read -r _ || exit 97; exec "$@" </dev/null';
    const argv = typeof command === 'string' ? ['/bin/sh', '-c', command] : command;
    const child = spawn('/bin/sh', ['-c', gate, 'faultline-gate', ...argv], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const held = new HeldProcess(child);
    try {
      await opts.beforeRun?.(held.pid, held.pidStart);
    } catch (e) {
      child.stdin!.destroy();
      await held.release(0);
      throw e;
    }
    child.stdin!.end('\n');
    return held;
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** The last few KB of its stdout and stderr. */
  output(): string {
    return this.out;
  }

  /** One line for an error: how it exited and its last output line. */
  describeExit(): string {
    const e = this.exit;
    const how = !e ? 'is running' : e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
    const last = this.out.trim().split('\n').pop()?.trim();
    return `${how}${last ? `: ${last.slice(0, 200)}` : ''}`;
  }

  /** Resolves with the absolute time of the first stdout line matching `pattern` (any line when undefined), or undefined if the process ended first. */
  firstLine(pattern: RegExp | undefined): Promise<number | undefined> {
    const seen = this.lines.find((l) => !pattern || pattern.test(l));
    if (seen !== undefined) return Promise.resolve(now());
    return new Promise((resolve) => {
      const w = (l: string) => {
        if (pattern && !pattern.test(l)) return;
        this.lineWaiters.delete(w);
        resolve(now());
      };
      this.lineWaiters.add(w);
      void this.exited.then(() => {
        // Lines still in the pipe arrive before 'close'; give them a moment.
        setTimeout(() => {
          if (this.lineWaiters.delete(w)) resolve(undefined);
        }, 50);
      });
    });
  }

  private signalGroup(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch {
      /* gone */
    }
  }

  /**
   * Ends the process group: SIGCONT (in case something paused it), SIGTERM,
   * and SIGKILL after `graceMs`. Resolves with the absolute time the leader
   * has exited; members of the group get SIGKILL then too.
   */
  async release(graceMs = 2_000): Promise<number> {
    if (this.exit) {
      this.signalGroup('SIGKILL'); // anything it left behind in its group
      return this.exit.at;
    }
    this.signalGroup('SIGCONT');
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    const e = await this.exited;
    clearTimeout(timer);
    this.signalGroup('SIGKILL');
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
    return e.at;
  }
}

async function probeOnce(c: { port?: number; url?: string }): Promise<boolean> {
  if (c.port !== undefined) return (await canConnect(c.port, '127.0.0.1', 300)) || (await canConnect(c.port, '::1', 300));
  return httpOk(c.url!, 1_000);
}

/**
 * Polls a probe until it is up (or down), every `everyMs`; resolves with the
 * absolute time it was first seen so, or undefined at the timeout or when
 * `abort` resolves first.
 */
export async function probeUntil(c: { port?: number; url?: string; when?: 'up' | 'down'; timeout: number }, opts: { everyMs?: number; abort?: Promise<unknown> } = {}): Promise<number | undefined> {
  const deadline = now() + c.timeout;
  const want = c.when !== 'down';
  let aborted = false;
  void opts.abort?.then(() => (aborted = true));
  for (;;) {
    if ((await probeOnce(c)) === want) return now();
    if (aborted || now() >= deadline) return undefined;
    await sleep(opts.everyMs ?? 50);
  }
}

/**
 * Waits until `cond` holds for a held command; resolves with the absolute
 * time it did. Rejects (with a one-line reason) when the command exits first,
 * or the condition's timeout passes.
 */
export async function waitReady(held: HeldProcess, cond: ReadyCondition): Promise<number> {
  const what = describeCondition(cond);
  const fail = (why: string) => new Error(`waited for ${what}: ${why}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), cond.timeout)));
  try {
    if (cond.running !== undefined) {
      const r = await Promise.race([held.exited, sleep(cond.running).then(() => 'ok' as const)]);
      if (r !== 'ok' || !held.running) throw fail(`the command ${held.describeExit()}`);
      return now();
    }
    if (cond.line !== undefined) {
      const pattern = cond.line === true ? undefined : new RegExp(cond.line);
      const r = await Promise.race([held.firstLine(pattern), timeout]);
      if (r === 'timeout') throw fail(`not seen after ${cond.timeout / 1000}s`);
      if (r === undefined) throw fail(`the command ${held.describeExit()}`);
      return r;
    }
    const t = await probeUntil(cond, { abort: held.exited });
    if (t === undefined) throw fail(held.running ? `not seen after ${cond.timeout / 1000}s` : `the command ${held.describeExit()}`);
    return t;
  } finally {
    clearTimeout(timer);
  }
}
