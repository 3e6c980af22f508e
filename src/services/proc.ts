/**
 * Small facts about processes, read from /proc (Linux) and kill(0). Used to
 * signal process groups and to refuse signalling a pid that was reused by an
 * unrelated process since it was recorded.
 */
import { readFileSync } from 'node:fs';

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces and parens). */
export function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** One-letter scheduler state: R running, S sleeping, T stopped, Z zombie...; undefined if gone. */
export function processState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** Start time in clock ticks since boot (field 22): with the pid, identifies one process for its lifetime. */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** Whether a pid (or, negative, a process group) exists; EPERM means it exists but is not ours. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a pid exists and is not a zombie (a zombie has exited; only its parent's wait is missing). */
export function pidAlive(pid: number): boolean {
  if (!pidExists(pid)) return false;
  const st = processState(pid);
  return st !== 'Z' && st !== 'X';
}

/** Sends a signal; false when the target no longer exists. Other errors (EPERM) are thrown. */
export function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}
