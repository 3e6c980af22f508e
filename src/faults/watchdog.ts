/**
 * The pause watchdog: a tiny detached Node process that sends SIGCONT to the
 * paused pids at the fault's end, or as soon as faultline itself is gone, so
 * even a `kill -9` of faultline never leaves a process stopped. A normal stop
 * disarms it (kills it) after resuming the pids itself. The recover watchdog
 * (below) does the same for a whole journal.
 */
import { spawn } from 'node:child_process';

// Runs in the watchdog. Its parent is gone when it has been re-parented (ppid changed).
const SCRIPT = `
const { targets, deadline, parent, pollMs } = JSON.parse(process.env.FAULTLINE_WATCHDOG);
function resume() {
  for (const t of targets) { try { process.kill(t, 'SIGCONT'); } catch {} }
  process.exit(0);
}
function check() {
  if (process.ppid !== parent) resume();
  if (deadline !== null && Date.now() >= deadline) resume();
}
setInterval(check, pollMs);
check();
`;

/** An armed watchdog. */
export interface Watchdog {
  /** Pid of the watchdog process. */
  readonly pid: number;
  /** Kills the watchdog without it resuming anything (the caller resumes the pids itself). */
  disarm(): void;
}

export interface WatchdogOptions {
  /** When to send SIGCONT (epoch ms); undefined: only when faultline is gone. */
  deadline?: number;
  /** How often it checks, ms (default 100): the lateness of a resume after faultline dies. */
  pollMs?: number;
}

/**
 * Arms a watchdog for these pids (negative: process groups). Returns once the
 * watchdog process exists; it is in its own process group (Ctrl-C in the
 * terminal does not reach it) and not waited for (unref).
 */
export function armWatchdog(targets: number[], opts: WatchdogOptions = {}): Watchdog {
  return spawnWatchdog('pause', ['-e', SCRIPT], {
    FAULTLINE_WATCHDOG: JSON.stringify({ targets, deadline: opts.deadline ?? null, parent: process.pid, pollMs: opts.pollMs ?? 100 }),
  });
}

/** Starts a detached, unwaited watchdog process; disarming kills it (it may have finished already). */
function spawnWatchdog(what: string, args: string[], env: NodeJS.ProcessEnv): Watchdog {
  const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', env });
  child.on('error', () => {}); // reported through pid === undefined below
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start the ${what} watchdog`);
  const pid = child.pid;
  return {
    pid,
    disarm() {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* it already did its work and exited */
      }
    },
  };
}

// Runs in the recover watchdog: when faultline is gone, undo its journal (what recover does).
const RECOVER_SCRIPT = `
const { journal, parent, pollMs, settleMs, recoverUrl } = JSON.parse(process.env.FAULTLINE_WATCHDOG);
const timer = setInterval(async () => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  // An ip/nft/tc command faultline had started may outlive it by a moment (its own process
  // group): let it finish, so it cannot re-make something after the undo.
  await new Promise((r) => setTimeout(r, settleMs));
  try { const { recover } = await import(recoverUrl); await recover(journal); } catch {}
  process.exit(0);
}, pollMs);
`;

/**
 * Arms a watchdog that runs `faultline recover` on this journal as soon as
 * faultline is gone (a kill -9): used by runs that change the network
 * (namespaces, nft tables, qdiscs, resolver files), which nothing else would
 * undo. A normal end disarms it after undoing everything itself.
 */
export function armRecoverWatchdog(journal: string, opts: { pollMs?: number } = {}): Watchdog {
  const recoverUrl = new URL('./recover.ts', import.meta.url).href;
  return spawnWatchdog('recover', ['--input-type=module', '-e', RECOVER_SCRIPT], {
    ...process.env,
    FAULTLINE_WATCHDOG: JSON.stringify({ journal, parent: process.pid, pollMs: opts.pollMs ?? 100, settleMs: 1000, recoverUrl }),
  });
}
