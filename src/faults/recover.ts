/**
 * `faultline recover [journal]`: undoes whatever a killed run left behind,
 * from the intent records in its journal (see journal.ts).
 *
 * - signal: sent if the process (or group) still exists and is the one recorded
 *   (same /proc start time), so a reused pid is left alone;
 * - exec: the undo command, with its timeout and the run's FAULTLINE_* variables;
 * - argv: a program faultline chose itself (ip, nft, tc …), run without a shell;
 * - http: the request, loopback only;
 * - none: reported as a note (nothing can be undone from outside the run).
 *
 * Entries written by a faultline process that is still running are left alone
 * (that run will undo them itself) unless `force` is set. Entries whose undo
 * failed stay in the journal so a second `recover` can retry them; everything
 * else is removed.
 */
import { isLoopbackHost } from '../config/units.ts';
import type { JournalEntry } from './types.ts';
import { readOpenEntries, rewriteJournal, defaultJournalPath } from './journal.ts';
import { runShell, runArgv, describeFailure } from './shell.ts';
import { pidAlive, pidExists, processStartTime, sendSignal } from '../services/proc.ts';

export interface RecoverResult {
  /** One line per entry undone, e.g. `pause "db pause": SIGCONT → pid 1234`. */
  undone: string[];
  /** Entries whose undo failed; they stay in the journal. */
  failed: { entry: JournalEntry; error: string }[];
  /** Entries of a run that is still alive, left for it. */
  skipped: JournalEntry[];
  /** Entries with nothing to undo, or whose process is already gone. */
  notes: string[];
}

const SIGNAL_PAUSED_FIRST = new Set<NodeJS.Signals>(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']);

async function undoOne(e: JournalEntry): Promise<{ done?: string; note?: string }> {
  const label = `${e.kind} ${JSON.stringify(e.fault)}`;
  const u = e.undo;
  switch (u.type) {
    case 'signal': {
      const leader = Math.abs(u.pid);
      const start = processStartTime(leader);
      if (start !== undefined && u.pidStart !== undefined && start !== u.pidStart) {
        return { note: `${label}: pid ${leader} now belongs to another process; left alone` };
      }
      // A process group outlives its leader while members remain, and its id is not reused meanwhile.
      const exists = u.pid < 0 ? pidExists(u.pid) : pidAlive(u.pid);
      if (!exists) return { note: `${label}: ${u.pid < 0 ? 'process group' : 'pid'} ${leader} is gone; nothing to do` };
      // A stopped process only acts on SIGTERM once it runs again.
      if (SIGNAL_PAUSED_FIRST.has(u.signal)) sendSignal(u.pid, 'SIGCONT');
      sendSignal(u.pid, u.signal);
      return { done: `${label}: ${u.signal} → ${u.pid < 0 ? 'process group' : 'pid'} ${leader}` };
    }
    case 'exec': {
      const r = await runShell(u.command, { env: { ...process.env, ...u.env }, cwd: u.cwd, timeoutMs: u.timeoutMs });
      if (r.code !== 0) throw new Error(describeFailure(`undo ${JSON.stringify(u.command)}`, r, u.timeoutMs));
      return { done: `${label}: ran ${JSON.stringify(u.command)}` };
    }
    case 'argv': {
      const r = await runArgv(u.argv, { timeoutMs: u.timeoutMs });
      if (r.code !== 0) throw new Error(describeFailure(`undo ${JSON.stringify(u.argv.join(' '))}`, r, u.timeoutMs));
      return { done: `${label}: ran ${JSON.stringify(u.argv.join(' '))}` };
    }
    case 'http': {
      const url = new URL(u.url);
      if (!isLoopbackHost(url.hostname)) throw new Error(`refusing ${u.method} ${u.url}: not loopback`);
      const res = await fetch(url, { method: u.method, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 300 && res.status !== 404) throw new Error(`${u.method} ${u.url} answered ${res.status}`);
      return { done: `${label}: ${u.method} ${u.url} → ${res.status}` };
    }
    case 'none':
      return { note: `${label}: ${u.note}` };
  }
}

/** Undoes every open entry of the journal (in reverse order of recording, as a stack of undos). */
export async function recover(journalPath: string = defaultJournalPath(), opts: { force?: boolean } = {}): Promise<RecoverResult> {
  const entries = await readOpenEntries(journalPath);
  const out: RecoverResult = { undone: [], failed: [], skipped: [], notes: [] };
  const keep: JournalEntry[] = [];
  for (const e of [...entries].reverse()) {
    if (!opts.force && e.owner !== undefined && e.owner !== process.pid && pidAlive(e.owner)) {
      out.skipped.push(e);
      keep.push(e);
      continue;
    }
    try {
      const r = await undoOne(e);
      if (r.done) out.undone.push(r.done);
      if (r.note) out.notes.push(r.note);
    } catch (err) {
      out.failed.push({ entry: e, error: err instanceof Error ? err.message : String(err) });
      keep.push(e);
    }
  }
  if (entries.length > 0) await rewriteJournal(journalPath, keep.reverse());
  return out;
}
