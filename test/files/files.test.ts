/** Directories faultline makes itself: parents made level by level, never a hang under /proc. */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirs, pseudoFs } from '../../src/files.ts';

const dir = mkdtempSync(join(tmpdir(), `faultline-h10-files-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('makeDirs', () => {
  it('makes missing parents, and is idempotent', () => {
    const d = join(dir, 'a', 'b', 'c');
    makeDirs(d);
    makeDirs(d);
    expect(statSync(d).isDirectory()).toBe(true);
  });

  it('refuses /proc at once (Node’s recursive mkdir never returns there)', () => {
    const t = performance.now();
    expect(() => makeDirs('/proc/nope/logs')).toThrow(/procfs/);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(existsSync('/proc/nope')).toBe(false);
    expect(pseudoFs('/proc')).toBe('procfs');
    expect(pseudoFs(dir)).toBeUndefined();
  });
});
