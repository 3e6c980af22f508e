/** Runs a command through the shell with a timeout; used by exec faults and by recover. */
import { spawn } from 'node:child_process';

export interface ShellResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last few KB of stdout and stderr together. */
  output: string;
  ms: number;
  timedOut: boolean;
}

const KEEP = 4096;

/**
 * `sh -c command` in its own process group, so a timeout ends everything it
 * started (SIGTERM, then SIGKILL after 1 s). Never rejects for a failing
 * command; the caller decides what a non-zero exit means.
 */
export function runShell(command: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number }): Promise<ShellResult> {
  return runArgv(['/bin/sh', '-c', command], opts);
}

/** A program and its arguments, without a shell; otherwise as runShell. */
export function runArgv(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number }): Promise<ShellResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-KEEP);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const group = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        /* gone */
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      group('SIGTERM');
      killTimer = setTimeout(() => group('SIGKILL'), 1000);
    }, opts.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      child.stdout!.destroy();
      child.stderr!.destroy();
      resolve({ code, signal, output, ms: performance.now() - t0, timedOut });
    };
    // 'close' means the output is drained; a command that leaves something running in
    // the background keeps the pipes open, so after 'exit' wait only briefly for it.
    child.once('close', finish);
    child.once('exit', (code, signal) => setTimeout(() => finish(code, signal), 200).unref());
  });
}

/** One line describing a failed run, for fault-error events. */
export function describeFailure(what: string, r: ShellResult, timeoutMs: number): string {
  const last = r.output.trim().split('\n').pop()?.trim();
  const how = r.timedOut ? `timed out after ${timeoutMs / 1000}s` : r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
  return `${what} ${how}${last ? `: ${last.slice(0, 200)}` : ''}`;
}

/** The run's facts as environment variables: `offeredRate` → FAULTLINE_OFFERED_RATE. */
export function factsEnv(facts: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(facts)) {
    const key = k.startsWith('FAULTLINE_')
      ? k
      : 'FAULTLINE_' + k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
    env[key] = String(v);
  }
  return env;
}
