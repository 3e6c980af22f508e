/**
 * The intent journal: a JSON-lines file where every fault writes how to undo
 * it *before* it takes effect, and a clear line after its undo. Append-only,
 * so two runs sharing a journal never overwrite each other and a kill -9 at
 * any moment leaves a readable file (a torn last line is skipped).
 *
 *   {"op":"record","id":"…","fault":"payment pause","kind":"pause","undo":{…},"at":…,"owner":4242}
 *   {"op":"clear","id":"…"}
 */
import { appendFile, mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Journal, JournalEntry } from './types.ts';

/** Default journal path for a run in `cwd`. */
export function defaultJournalPath(cwd: string = process.cwd()): string {
  return join(cwd, '.faultline', 'journal.jsonl');
}

type Line = ({ op: 'record' } & JournalEntry) | { op: 'clear'; id: string };

/** A Journal backed by a JSON-lines file. */
export class FileJournal implements Journal {
  readonly path: string;
  private seq = 0;
  private ready?: Promise<unknown>;
  /** Writes are chained so lines never interleave and a clear never overtakes its record. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(path: string = defaultJournalPath()) {
    this.path = path;
  }

  private append(line: Line): Promise<void> {
    this.ready ??= mkdir(dirname(this.path), { recursive: true });
    const p = this.tail.then(() => this.ready).then(() => appendFile(this.path, JSON.stringify(line) + '\n'));
    this.tail = p.catch(() => {});
    return p;
  }

  async record(entry: Omit<JournalEntry, 'id' | 'at'>): Promise<string> {
    const id = `${process.pid}-${++this.seq}-${randomBytes(3).toString('hex')}`;
    await this.append({ op: 'record', ...entry, id, at: Date.now(), owner: entry.owner ?? process.pid });
    return id;
  }

  async clear(id: string): Promise<void> {
    await this.append({ op: 'clear', id });
  }
}

/** Entries recorded and not cleared, in the order they were recorded. A missing file has none. */
export async function readOpenEntries(path: string): Promise<JournalEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const open = new Map<string, JournalEntry>();
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue; // torn write of a killed run
    }
    if (line.op === 'record') {
      const { op: _op, ...entry } = line;
      open.set(entry.id, entry);
    } else if (line.op === 'clear') {
      open.delete(line.id);
    }
  }
  return [...open.values()];
}

/** Replaces the journal with just these entries (atomically, by rename). */
export async function rewriteJournal(path: string, entries: JournalEntry[]): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, entries.map((e) => JSON.stringify({ op: 'record', ...e }) + '\n').join(''));
  await rename(tmp, path);
}

/** A journal that keeps nothing (library use without a file, tests). */
export class MemoryJournal implements Journal {
  readonly path = ':memory:';
  readonly entries = new Map<string, JournalEntry>();
  private seq = 0;
  async record(entry: Omit<JournalEntry, 'id' | 'at'>): Promise<string> {
    const id = `mem-${++this.seq}`;
    this.entries.set(id, { ...entry, id, at: Date.now(), owner: entry.owner ?? process.pid });
    return id;
  }
  async clear(id: string): Promise<void> {
    this.entries.delete(id);
  }
}
