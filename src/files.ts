/**
 * Directories faultline creates itself (state, service logs), made without
 * Node's recursive mkdir: under /proc it never returns (procfs answers ENOENT
 * for a child it cannot hold and the walk retries the parent forever, at 100%
 * CPU and deaf to signals). Here the walk goes up to the first existing
 * ancestor, refuses a pseudo-filesystem, then makes each level once.
 */
import { mkdirSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Filesystems that hold no files of ours (their magic numbers, from statfs(2)). */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'procfs',
  0x62656572: 'sysfs',
  0x27e0eb: 'cgroupfs',
  0x63677270: 'cgroup2fs',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x1cd1: 'devpts',
  0x73636673: 'securityfs',
};

/** The pseudo-filesystem `dir` is on, if it is on one. */
export function pseudoFs(dir: string): string | undefined {
  try {
    return PSEUDO_FS[statfsSync(dir).type];
  } catch {
    return undefined;
  }
}

/** Makes `dir` and its missing parents; throws (at once) when they would be on a pseudo-filesystem. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  for (;;) {
    try {
      if (!statSync(d).isDirectory()) throw new Error(`${d} is not a directory`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(d);
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  const fs = pseudoFs(d);
  if (fs) throw new Error(`cannot create ${resolve(dir)}: ${d} is on ${fs}`);
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
