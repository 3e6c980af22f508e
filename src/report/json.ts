/**
 * Output files: checked before any load is sent, written atomically after.
 *
 * A result goes only into a regular file (new, or replaced by a temp file
 * beside it and a rename) — never over a directory, a FIFO, a socket or a
 * device node, and never by creating directories: a missing directory is a
 * mistake to report, and Node's recursive mkdir never returns under /proc
 * (procfs answers ENOENT for a child it cannot hold, and the walk retries the
 * parent forever). A symlink is followed to the file it names (the link stays a
 * link), and messages say where it leads.
 */
import { writeFile, rename, rm } from 'node:fs/promises';
import { accessSync, constants, lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { makeDirs, pseudoFs } from '../files.ts';
import { dirname, basename, join, resolve } from 'node:path';
import type { Reporter } from './reporter.ts';

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device node';
  return 'not a regular file';
}

/** Where a path leads: itself, or (a symlink) the file it names, existing or not. */
export function resolveOutput(path: string): { target: string; link: boolean } {
  const abs = resolve(path);
  let l: Stats;
  try {
    l = lstatSync(abs);
  } catch {
    return { target: abs, link: false };
  }
  if (!l.isSymbolicLink()) return { target: abs, link: false };
  try {
    return { target: realpathSync(abs), link: true };
  } catch {
    // A dangling link: it names a file still to be created.
    return { target: resolve(dirname(abs), readlinkSync(abs)), link: true };
  }
}

/** Why `path` cannot take an output file, in one line; undefined when it can. No side effects. */
export function outputProblem(path: string): string | undefined {
  if (path === '') return 'an empty file name';
  const { target, link } = resolveOutput(path);
  const what = link ? `${path} (a symlink to ${target})` : path;
  let st: Stats | undefined;
  try {
    st = statSync(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return `${what}: a part of the path is not a directory`;
    if (code !== 'ENOENT') return `${what}: ${(e as Error).message}`;
  }
  const dir = dirname(target);
  const fs = pseudoFs(dir);
  if (fs) return `${what} is on ${fs}, which holds no result files`;
  if (st) {
    if (!st.isFile()) return `${what} is ${kindOf(st)}: results are written only to regular files`;
    try {
      accessSync(target, constants.W_OK);
    } catch {
      return `${what} is not writable`;
    }
  } else {
    let ds: Stats;
    try {
      ds = statSync(dir);
    } catch {
      return `${what}: the directory ${dir} does not exist (faultline does not create it)`;
    }
    if (!ds.isDirectory()) return `${what}: ${dir} is not a directory`;
  }
  try {
    // The temp file is made beside the target, then renamed over it.
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return `${what}: the directory ${dir} is not writable`;
  }
  return undefined;
}

/** Makes a state directory (and its missing parents), refusing pseudo-filesystems. */
export function ensureDir(dir: string): void {
  makeDirs(dir);
}

/** Writes `data` to `path` atomically (temp file + rename), only over a regular file or nothing. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const problem = outputProblem(path);
  if (problem) throw new Error(problem);
  const { target } = resolveOutput(path);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The whole result, Timeline included: what `report`, `compare` and `merge` read back. */
export const json: Reporter = { name: 'json', describe: 'write the whole result (Timeline included) as JSON', render: (r) => JSON.stringify(r, null, 1) + '\n' };
