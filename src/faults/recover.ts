/**
 * `faultline recover [journal]`: undoes whatever a killed run left behind,
 * from the intent records in its journal (see journal.ts). The journal is
 * checked like a scenario first: only well-formed lines signed with this
 * machine's journal key are acted on; anything else is refused and reported.
 *
 * - signal: only to a pid or group above 1 whose /proc start time is the one
 *   recorded (so a reused pid, or a process faultline never touched, is left
 *   alone); a group whose leader is gone is signalled only while it still
 *   exists (its id cannot be reused meanwhile);
 * - exec: the undo command as recorded, with its timeout and the run's FAULTLINE_* variables;
 * - argv: a program faultline chose itself (ip, nft, tc …), run without a shell;
 *   output matching its `gone` pattern means there was nothing left to undo;
 * - http: the request, loopback only;
 * - cgroup: a resource fault's cgroups emptied (processes moved back) and removed;
 * - file: a removed or replaced file renamed back from its backup;
 * - none: reported as a note (nothing can be undone from outside the run).
 *
 * `planRecovery` says what would be done without doing it; `recover` does it.
 * Entries written by a faultline process that is still running are left alone
 * (that run will undo them itself) unless `force` is set. Entries whose undo
 * failed, and refused lines, stay in the journal; everything else is removed.
 */
import { isLoopbackHost } from '../config/units.ts';
import type { JournalEntry } from './types.ts';
import { readJournal, rewriteJournal, defaultJournalPath, type RefusedLine } from './journal.ts';
import { runShell, runArgv, describeFailure } from './shell.ts';
import { existsSync } from 'node:fs';
import { releaseCgroup } from './cgroup.ts';
import { restoreFile } from './kinds/file.ts';
import { pidAlive, pidExists, processStartTime, sendSignal } from '../services/proc.ts';

/** One open entry and what recover will do with it. */
export type RecoverStep =
  /** Will act: `what` says how (`SIGCONT → pid 1234`, `run "…"`). */
  | { action: 'undo'; entry: JournalEntry; what: string }
  /** Nothing to do (already gone, a reused pid, a kind with no outside undo). */
  | { action: 'note'; entry: JournalEntry; what: string }
  /** Its run is still going and will undo it itself. */
  | { action: 'skip'; entry: JournalEntry; what: string }
  /** Signed and well-formed, but not safe to act on (no start time recorded, a URL off loopback). */
  | { action: 'refuse'; entry: JournalEntry; what: string };

export interface RecoverPlan {
  journal: string;
  steps: RecoverStep[];
  /** Lines that are malformed, unsigned or mis-signed: never acted on. */
  refused: RefusedLine[];
  keyPath: string;
}

export interface RecoverResult {
  /** One line per entry undone, e.g. `pause "db pause": SIGCONT → pid 1234`. */
  undone: string[];
  /** Entries whose undo failed; they stay in the journal. */
  failed: { entry: JournalEntry; error: string }[];
  /** Entries of a run that is still alive, left for it. */
  skipped: JournalEntry[];
  /** Entries with nothing to undo, or whose process is already gone. */
  notes: string[];
  /** Lines and entries recover would not act on, with why; they stay in the journal. */
  refused: string[];
}

const SIGNAL_PAUSED_FIRST = new Set<NodeJS.Signals>(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']);

const label = (e: JournalEntry) => `${e.kind} ${JSON.stringify(e.fault)}`;

/** What recover would do with one signed entry, decided from the machine's state now. */
function decide(e: JournalEntry, opts: { force?: boolean }): RecoverStep {
  if (!opts.force && e.owner !== undefined && e.owner !== process.pid && pidAlive(e.owner)) {
    return { action: 'skip', entry: e, what: `${label(e)}: its run (pid ${e.owner}) is still going and will undo it` };
  }
  const u = e.undo;
  switch (u.type) {
    case 'signal': {
      const leader = Math.abs(u.pid);
      const who = `${u.pid < 0 ? 'process group' : 'pid'} ${leader}`;
      if (u.pidStart === undefined) return { action: 'refuse', entry: e, what: `${label(e)}: no start time recorded for ${who}: cannot tell it is the process faultline recorded` };
      const start = processStartTime(leader);
      if (start !== undefined && start !== u.pidStart) return { action: 'note', entry: e, what: `${label(e)}: ${who} now belongs to another process; left alone` };
      // A process group outlives its leader while members remain, and its id is not reused meanwhile.
      const exists = u.pid < 0 ? pidExists(u.pid) : start !== undefined && pidAlive(u.pid);
      if (!exists) return { action: 'note', entry: e, what: `${label(e)}: ${who} is gone; nothing to do` };
      return { action: 'undo', entry: e, what: `${label(e)}: ${u.signal} → ${who}` };
    }
    case 'exec':
      return { action: 'undo', entry: e, what: `${label(e)}: run ${JSON.stringify(u.command)} through /bin/sh${u.cwd ? ` in ${u.cwd}` : ''}` };
    case 'argv':
      return { action: 'undo', entry: e, what: `${label(e)}: run ${JSON.stringify(u.argv.join(' '))}` };
    case 'http': {
      let host = '';
      try {
        const url = new URL(u.url);
        host = url.protocol === 'http:' || url.protocol === 'https:' ? url.hostname : '';
      } catch {}
      if (!isLoopbackHost(host)) return { action: 'refuse', entry: e, what: `${label(e)}: refusing ${u.method} ${u.url}: not loopback` };
      return { action: 'undo', entry: e, what: `${label(e)}: ${u.method} ${u.url}` };
    }
    case 'cgroup': {
      const left = u.dirs.filter((d) => existsSync(d.dir));
      if (!left.length) return { action: 'note', entry: e, what: `${label(e)}: its cgroups are gone; nothing to do` };
      return { action: 'undo', entry: e, what: `${label(e)}: cgroup${left.length === 1 ? '' : 's'} ${left.map((d) => d.dir).join(', ')} emptied (processes moved back) and removed` };
    }
    case 'file':
      return { action: 'undo', entry: e, what: `${label(e)}: restore ${u.path}${u.backup ? ` from ${u.backup}` : ''}` };
    case 'none':
      return { action: 'note', entry: e, what: `${label(e)}: ${u.note}` };
  }
}

/** Reads and checks the journal and says what recover would do, doing nothing. */
export async function planRecovery(journalPath: string = defaultJournalPath(), opts: { force?: boolean; keyPath?: string } = {}): Promise<RecoverPlan> {
  const j = await readJournal(journalPath, { keyPath: opts.keyPath });
  // In reverse order of recording, as a stack of undos.
  const steps = [...j.open].reverse().map((e) => decide(e, opts));
  return { journal: journalPath, steps, refused: j.refused, keyPath: j.keyPath };
}

async function act(step: RecoverStep & { action: 'undo' }): Promise<string> {
  const u = step.entry.undo;
  switch (u.type) {
    case 'signal': {
      // A stopped process only acts on SIGTERM once it runs again.
      if (SIGNAL_PAUSED_FIRST.has(u.signal)) sendSignal(u.pid, 'SIGCONT');
      sendSignal(u.pid, u.signal);
      return step.what;
    }
    case 'exec': {
      const r = await runShell(u.command, { env: { ...process.env, ...u.env }, cwd: u.cwd, timeoutMs: u.timeoutMs });
      if (r.code !== 0) throw new Error(describeFailure(`undo ${JSON.stringify(u.command)}`, r, u.timeoutMs));
      return `${label(step.entry)}: ran ${JSON.stringify(u.command)}`;
    }
    case 'argv': {
      const r = await runArgv(u.argv, { timeoutMs: u.timeoutMs });
      if (r.code !== 0 && !r.timedOut && u.gone !== undefined && new RegExp(u.gone).test(r.output)) {
        return `${label(step.entry)}: ran ${JSON.stringify(u.argv.join(' '))} (already gone)`;
      }
      if (r.code !== 0) throw new Error(describeFailure(`undo ${JSON.stringify(u.argv.join(' '))}`, r, u.timeoutMs));
      return `${label(step.entry)}: ran ${JSON.stringify(u.argv.join(' '))}`;
    }
    case 'http': {
      const res = await fetch(new URL(u.url), { method: u.method, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 300 && res.status !== 404) throw new Error(`${u.method} ${u.url} answered ${res.status}`);
      return `${step.what} → ${res.status}`;
    }
    case 'cgroup':
      for (const d of u.dirs) releaseCgroup(d.dir, d.returnTo);
      return step.what;
    case 'file':
      return `${label(step.entry)}: ${restoreFile(u)}`;
    case 'none':
      return step.what;
  }
}

/**
 * Undoes every open, signed entry of the journal. `confirm` sees the plan
 * first and may decline (then nothing is done). Each step is decided again
 * right before it acts, so a pid that changed meanwhile is still left alone.
 */
export async function recover(
  journalPath: string = defaultJournalPath(),
  opts: { force?: boolean; keyPath?: string; confirm?: (plan: RecoverPlan) => boolean | Promise<boolean> } = {},
): Promise<RecoverResult> {
  const plan = await planRecovery(journalPath, opts);
  const out: RecoverResult = { undone: [], failed: [], skipped: [], notes: [], refused: plan.refused.map(refusedText) };
  if (opts.confirm && !(await opts.confirm(plan))) return out;
  const keep: JournalEntry[] = [];
  for (const planned of plan.steps) {
    const step = decide(planned.entry, opts);
    if (step.action === 'skip') {
      out.skipped.push(step.entry);
      keep.push(step.entry);
    } else if (step.action === 'refuse') {
      out.refused.push(step.what);
      keep.push(step.entry);
    } else if (step.action === 'note') {
      out.notes.push(step.what);
    } else {
      try {
        out.undone.push(await act(step));
      } catch (err) {
        out.failed.push({ entry: step.entry, error: err instanceof Error ? err.message : String(err) });
        keep.push(step.entry);
      }
    }
  }
  if (plan.steps.length > 0) await rewriteJournal(journalPath, keep.reverse(), plan.refused);
  return out;
}

export function refusedText(r: RefusedLine): string {
  return `line ${r.line}${r.claims ? ` (${r.claims})` : ''}: ${r.reason}`;
}
