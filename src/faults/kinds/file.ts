/**
 * `file`: take a file away from a service — the `.env` case.
 *
 * `action: remove` (default), `replace` (with `content`), `truncate` (to
 * `size` bytes, default 0) or `unreadable` (mode 000). The original is renamed
 * to a backup beside it (same directory, so the rename is atomic and keeps
 * every byte, its inode, owner and mode) and renamed back at the end; the
 * journal holds the backup's path and the original's SHA-256 before anything
 * changes, so `faultline recover` restores it after a kill -9 too. With
 * `restart: true` the target service is restarted after the change (does it
 * come up without its file?) and, if it did not, again after the restore;
 * both outcomes are measured.
 *
 * Note: a process running as root reads a mode-000 file anyway; `unreadable`
 * on such a service is flagged "no effect".
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { zBytes } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect, JournalEntry } from '../types.ts';
import { toMeasured, type FaultEffect } from '../resource.ts';
import { uidOf } from '../resource.ts';

const params = z
  .strictObject({
    /** The file (relative paths are from the current directory). */
    path: z.string().min(1),
    action: z.enum(['remove', 'replace', 'truncate', 'unreadable']).default('remove'),
    /** replace: the new content. */
    content: z.string().optional(),
    /** truncate: keep this many bytes. */
    size: zBytes.default(0),
    /** Restart the target service after the change, and after the restore if it did not come back; both measured. */
    restart: z.boolean().default(false),
  })
  .superRefine((p, ctx) => {
    if (p.action === 'replace' && p.content === undefined) ctx.addIssue({ code: 'custom', path: ['content'], message: 'replace needs `content`' });
    if (p.action !== 'replace' && p.content !== undefined) ctx.addIssue({ code: 'custom', path: ['content'], message: '`content` is for action: replace' });
  });

type Params = z.output<typeof params>;
type FileUndo = Extract<JournalEntry['undo'], { type: 'file' }>;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Puts a file back as the journal describes (undo and `faultline recover`):
 * the backup renamed over whatever is at the path now, or the mode restored.
 * Returns what it did; throws when the original cannot be found.
 */
export function restoreFile(u: FileUndo): string {
  if (u.backup !== undefined) {
    if (existsSync(u.backup)) {
      renameSync(u.backup, u.path);
    } else if (!(existsSync(u.path) && u.sha256 !== undefined && sha256(readFileSync(u.path)) === u.sha256)) {
      // Not there, and the path does not hold the original: the fault may never have acted (killed between
      // journal and rename) only if the original is still in place, which it is not.
      throw new Error(`the backup ${u.backup} of ${u.path} is missing and ${u.path} is not the original`);
    }
  }
  if (u.mode !== undefined && existsSync(u.path)) chmodSync(u.path, u.mode & 0o7777);
  if (u.sha256 !== undefined && sha256(readFileSync(u.path)) !== u.sha256) throw new Error(`${u.path} was restored but its SHA-256 differs from the original`);
  return `${u.path} restored${u.sha256 ? ` (sha256 ${u.sha256.slice(0, 12)}… verified)` : ''}`;
}

class FileFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly p: Params;
  private readonly path: string;
  private undo?: FileUndo;
  private journalId?: string;
  private changedAt?: number;
  private seenAtEnd?: string;
  private restartAfterChange?: { readyMs?: number; error?: string };
  private restartAfterRestore?: { readyMs?: number; error?: string; at: number };
  private rootReaders = false;

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.p = params.parse(spec.params);
    this.path = resolve(this.p.path);
    if (this.p.restart && (!spec.target || !ctx.services.restart)) throw new Error('file with restart needs a managed service as target');
  }

  async start(): Promise<number> {
    const st = lstatSync(this.path, { throwIfNoEntry: false });
    if (!st) throw new Error(`${this.path} does not exist`);
    if (!st.isFile()) throw new Error(`${this.path} is not a regular file`);
    const original = readFileSync(this.path);
    const { action } = this.p;
    const backup = action === 'unreadable' ? undefined : join(dirname(this.path), `.${basename(this.path)}.faultline-${process.pid}-${randomBytes(3).toString('hex')}.bak`);
    this.undo = { type: 'file', path: this.path, backup, mode: st.mode & 0o7777, sha256: sha256(original) };
    // The way back is on disk before the file changes.
    this.journalId = await this.ctx.journal.record({ fault: this.spec.name, kind: this.spec.kind, undo: this.undo });
    if (action === 'unreadable') {
      chmodSync(this.path, 0);
      const pids = this.spec.target ? (this.ctx.services.get(this.spec.target)?.pids() ?? []) : [];
      this.rootReaders = pids.length > 0 && pids.every((p) => uidOf(p) === 0);
    } else {
      renameSync(this.path, backup!);
      if (action === 'replace') writeFileSync(this.path, this.p.content!, { mode: st.mode & 0o777 });
      if (action === 'truncate') writeFileSync(this.path, original.subarray(0, Math.min(original.length, this.p.size)), { mode: st.mode & 0o777 });
    }
    this.changedAt = Date.now();
    const at = performance.timeOrigin + performance.now();
    this.ctx.log(`${this.spec.name}: ${action} ${this.path}${backup ? ` (original kept as ${backup})` : ''}`);
    if (this.p.restart) this.restartAfterChange = await this.restartTarget();
    // In effect from the change, not from the end of the restart that follows it.
    return at;
  }

  private async restartTarget(): Promise<{ readyMs?: number; error?: string }> {
    try {
      const rs = await this.ctx.services.restart!(this.spec.target!);
      return { readyMs: Math.max(...rs.map((r) => r.readyMs)) };
    } catch (e) {
      // The point of the experiment: a service that cannot start without its file.
      return { error: (e as Error).message };
    }
  }

  async stop(): Promise<void> {
    if (!this.undo) return;
    this.seenAtEnd = describeNow(this.path);
    restoreFile(this.undo);
    this.undo = undefined;
    if (this.journalId) await this.ctx.journal.clear(this.journalId);
    // A service that came back without its file keeps running; one that did not is restarted now.
    const svc = this.p.restart ? this.ctx.services.get(this.spec.target!) : undefined;
    if (svc && svc.replicas().some((r) => r.state !== 'ready')) {
      const at = Date.now();
      this.restartAfterRestore = { ...(await this.restartTarget()), at };
    }
  }

  detail(): Record<string, unknown> {
    return this.report().detail;
  }

  measured(): MeasuredEffect {
    return toMeasured(this.report());
  }

  private report(): { detail: Record<string, unknown>; effect: FaultEffect } {
    const { action } = this.p;
    const d: Record<string, unknown> = { path: this.path, action };
    if (this.seenAtEnd !== undefined) d.atEnd = this.seenAtEnd;
    const parts: string[] = [`${this.seenAtEnd ?? '?'} at the end`];
    if (this.restartAfterChange) {
      d.restartWithout = this.restartAfterChange;
      parts.push(this.restartAfterChange.error ? `restart without it failed: ${this.restartAfterChange.error}` : `restarted without it, ready in ${this.restartAfterChange.readyMs} ms`);
    }
    if (this.restartAfterRestore) {
      const r = this.restartAfterRestore;
      d.restartToReadyMs = [r.readyMs ?? null];
      // From the change to ready again: the outage a restart without the file caused.
      if (this.changedAt !== undefined && r.readyMs !== undefined && this.restartAfterChange?.error) d.downMs = [r.at + r.readyMs - this.changedAt];
      parts.push(r.error ? `restart after restore failed: ${r.error}` : `restored, ready again in ${r.readyMs} ms`);
    } else if (this.restartAfterChange && !this.restartAfterChange.error) {
      d.restartToReadyMs = [this.restartAfterChange.readyMs ?? null];
    }
    const effect: FaultEffect = {
      setting: `${action} ${basename(this.path)}${this.p.restart ? ', restart' : ''}`,
      measured: parts.join('; '),
      noEffect: this.rootReaders || undefined,
    };
    if (this.rootReaders) effect.measured += ' (the service runs as root, which reads a mode-000 file anyway)';
    return { detail: d, effect };
  }
}

/** What is at a path now, in a few words. */
function describeNow(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 'absent';
  if ((st.mode & 0o777) === 0) return 'mode 000';
  return `${st.size} bytes`;
}

export const file: FaultKind = {
  name: 'file',
  params,
  targets: 'any',
  describe: 'remove, replace, truncate or make unreadable a file (the .env case), optionally restarting the target service; the original restored byte for byte',
  create: (spec, ctx) => new FileFault(spec, ctx),
};
