/**
 * The intent journal: a JSON-lines file where every fault writes how to undo
 * it *before* it takes effect, and a clear line after its undo. Append-only,
 * so two runs sharing a journal never overwrite each other and a kill -9 at
 * any moment leaves a readable file (a torn last line is skipped).
 *
 *   {"op":"record","id":"…","fault":"payment pause","kind":"pause","undo":{…},"at":…,"owner":4242,"mac":"…"}
 *   {"op":"clear","id":"…","mac":"…"}
 *
 * Every line is signed with this machine's journal key (journalKey.ts) and
 * checked against journalSchema.ts when read: a line that is malformed,
 * unsigned or signed with another key is *refused* — reported, kept in the
 * file, never acted on.
 */
import { appendFile, mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Journal, JournalEntry } from './types.ts';
import { journalKey, journalKeyPath, signLine, verifyLine, JournalKeyError } from './journalKey.ts';
import { journalClearSchema, journalRecordSchema } from './journalSchema.ts';

/** Default journal path for a run in `cwd`. */
export function defaultJournalPath(cwd: string = process.cwd()): string {
  return join(cwd, '.faultline', 'journal.jsonl');
}

type Line = ({ op: 'record' } & JournalEntry) | { op: 'clear'; id: string; mac?: string };

/** A Journal backed by a JSON-lines file, every line signed. */
export class FileJournal implements Journal {
  readonly path: string;
  private readonly keyPath?: string;
  private seq = 0;
  private ready?: Promise<unknown>;
  /** Writes are chained so lines never interleave and a clear never overtakes its record. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(path: string = defaultJournalPath(), opts: { keyPath?: string } = {}) {
    this.path = path;
    this.keyPath = opts.keyPath;
  }

  private append(line: Line): Promise<void> {
    this.ready ??= mkdir(dirname(this.path), { recursive: true });
    const p = this.tail
      .then(() => this.ready)
      .then(() => {
        const key = journalKey({ create: true, path: this.keyPath })!;
        const { mac: _old, ...content } = line as Line & { mac?: string };
        return appendFile(this.path, JSON.stringify({ ...content, mac: signLine(key, content) }) + '\n');
      });
    this.tail = p.catch(() => {});
    return p;
  }

  async record(entry: Omit<JournalEntry, 'id' | 'at' | 'mac'>): Promise<string> {
    const id = `${process.pid}-${++this.seq}-${randomBytes(3).toString('hex')}`;
    const line = { op: 'record' as const, ...entry, id, at: Date.now(), owner: entry.owner ?? process.pid };
    // Never sign what recover would refuse (a pid of 1, a signal that does not exist).
    const ok = journalRecordSchema.omit({ mac: true }).safeParse(line);
    if (!ok.success) throw new Error(`refusing to journal ${entry.kind} ${JSON.stringify(entry.fault)}: ${ok.error.issues[0]!.path.join('.')}: ${ok.error.issues[0]!.message}`);
    await this.append(line);
    return id;
  }

  async clear(id: string): Promise<void> {
    await this.append({ op: 'clear', id });
  }
}

/** A line recover will not act on, and why. */
export interface RefusedLine {
  /** 1-based line number in the file. */
  line: number;
  raw: string;
  reason: string;
  /** What it claims to be, for the summary (untrusted). */
  claims?: string;
}

export interface JournalContents {
  /** Entries recorded and not cleared, in the order they were recorded: signed and well-formed. */
  open: JournalEntry[];
  /** Record lines (not cleared by a signed clear) that failed the schema or the signature. */
  refused: RefusedLine[];
  /** The key file used to check signatures. */
  keyPath: string;
}

/** Reads and checks a journal. A missing file is empty; a torn last line is skipped. Throws JournalKeyError for an unsafe key file. */
export async function readJournal(path: string, opts: { keyPath?: string } = {}): Promise<JournalContents> {
  const keyPath = opts.keyPath ?? journalKeyPath();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { open: [], refused: [], keyPath };
    throw e;
  }
  const key = journalKey({ create: false, path: keyPath });
  const open = new Map<string, JournalEntry | RefusedLine>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    const lineNo = i + 1;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      // The torn write of a killed run is the last line; anything else unparsable is refused.
      if (lines.slice(i + 1).every((l) => !l.trim())) return;
      open.set(`#${lineNo}`, { line: lineNo, raw, reason: 'not JSON' });
      return;
    }
    const o = (v !== null && typeof v === 'object' ? v : {}) as Record<string, unknown>;
    const claims = typeof o.fault === 'string' ? `${String(o.kind)} ${JSON.stringify(o.fault)}` : undefined;
    const id = typeof o.id === 'string' ? o.id : `#${lineNo}`;
    if (o.op === 'clear') {
      const c = journalClearSchema.safeParse(o);
      // An unsigned clear could hide a real entry from recover: ignore it.
      if (c.success && key && verifyLine(key, o)) open.delete(c.data.id);
      return;
    }
    const r = journalRecordSchema.safeParse(o);
    if (!r.success) {
      const is = r.error.issues[0]!;
      open.set(id, { line: lineNo, raw, claims, reason: `${is.path.join('.') || 'line'}: ${is.message}` });
      return;
    }
    if (!key) {
      open.set(id, { line: lineNo, raw, claims, reason: `no journal key at ${keyPath}: faultline did not write this on this machine` });
      return;
    }
    if (!verifyLine(key, o)) {
      open.set(id, { line: lineNo, raw, claims, reason: `signature does not match (written or changed by something other than faultline, or with another key than ${keyPath})` });
      return;
    }
    const { op: _op, ...entry } = r.data;
    open.set(entry.id, entry as JournalEntry);
  });
  const out: JournalContents = { open: [], refused: [], keyPath };
  for (const e of open.values()) {
    if ('reason' in e) out.refused.push(e);
    else out.open.push(e);
  }
  return out;
}

/** Entries recorded and not cleared, signed and well-formed (refused lines left out). */
export async function readOpenEntries(path: string): Promise<JournalEntry[]> {
  return (await readJournal(path)).open;
}

/** Replaces the journal with these entries (signatures kept) and refused lines as they were, atomically by rename. */
export async function rewriteJournal(path: string, entries: JournalEntry[], refused: RefusedLine[] = []): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const lines = [...refused.map((r) => r.raw), ...entries.map((e) => JSON.stringify({ op: 'record', ...e }))];
  await writeFile(tmp, lines.map((l) => l + '\n').join(''));
  await rename(tmp, path);
}

export { JournalKeyError };

/** A journal that keeps nothing (library use without a file, tests). */
export class MemoryJournal implements Journal {
  readonly path = ':memory:';
  readonly entries = new Map<string, JournalEntry>();
  private seq = 0;
  async record(entry: Omit<JournalEntry, 'id' | 'at' | 'mac'>): Promise<string> {
    const id = `mem-${++this.seq}`;
    this.entries.set(id, { ...entry, id, at: Date.now(), owner: entry.owner ?? process.pid });
    return id;
  }
  async clear(id: string): Promise<void> {
    this.entries.delete(id);
  }
}
