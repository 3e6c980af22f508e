/**
 * disk-fill: on a small tmpfs the test mounts itself, the filesystem is
 * filled until the requested space is left (statfs measured), a real writer
 * gets ENOSPC, and the undo gives the space back. The root filesystem is
 * refused without allowRootFs.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmdirSync, statfsSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskFill } from '../../src/faults/kinds/disk-fill.ts';
import { MemoryJournal } from '../../src/faults/journal.ts';
import type { FaultSpecBase } from '../../src/faults/types.ts';
import { testCtx } from '../fixtures/faultCtx.ts';

const mounts: string[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) {
    spawnSync('umount', [m]);
    rmdirSync(m);
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const root = process.getuid?.() === 0;

/** A tmpfs of `mib` MiB at a fresh directory (root only). */
function tmpfs(mib: number): string {
  const d = mkdtempSync(join(tmpdir(), `fl15-${process.pid}-disk-`));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', d]);
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  mounts.push(d);
  return d;
}

const avail = (d: string) => {
  const s = statfsSync(d);
  return s.bavail * s.bsize;
};

const spec = (params: Record<string, unknown>): FaultSpecBase => ({ name: 'disk full', kind: 'disk-fill', duration: 1000, params: diskFill.params.parse(params) });

describe('disk-fill', () => {
  it.skipIf(!root)('leaves 1 MiB on a 16 MiB tmpfs, a writer of 2 MiB gets ENOSPC, and the undo frees it all', async () => {
    const d = tmpfs(16);
    writeFileSync(join(d, 'data'), Buffer.alloc(3 << 20, 1)); // the database's own files
    const before = avail(d);
    const journal = new MemoryJournal();
    const f = diskFill.create(spec({ path: d, leave: '1MiB' }), testCtx({ journal }));
    await f.start();
    // Journalled before the first byte: an rm of the filler, without a shell.
    const [entry] = [...journal.entries.values()];
    expect(entry.undo).toMatchObject({ type: 'argv', argv: ['rm', '-f', '--', expect.stringMatching(new RegExp(`^${d}/\\.faultline-fill-`))] });
    const left = avail(d);
    // Measured against the setting: 1 MiB left, within one 1 MiB write's rounding to pages.
    expect(left).toBeLessThanOrEqual(1 << 20);
    expect(left).toBeGreaterThan((1 << 20) - 8 * 4096);
    let err: string | undefined;
    try {
      writeFileSync(join(d, 'wal'), Buffer.alloc(2 << 20, 2));
    } catch (e) {
      err = (e as NodeJS.ErrnoException).code;
    }
    expect(err).toBe('ENOSPC');
    rmSync(join(d, 'wal'), { force: true });
    await f.stop();
    const m = f.measured!()!;
    expect(m.noEffect).toBe(false);
    expect(m.summary).toMatch(/^leave 1\.00 MiB → wrote 1[0-2]\.\d MiB; 1\.00 MiB left after filling/);
    expect(m.values.writtenBytes).toBe(before - left);
    expect(avail(d)).toBe(before);
    expect(readdirSync(d)).toEqual(['data']);
    expect(journal.entries.size).toBe(0);
  });

  it.skipIf(!root)('by default fills until ENOSPC; a percentage leaves that share', async () => {
    const d = tmpfs(8);
    const f = diskFill.create(spec({ path: d }), testCtx());
    await f.start();
    expect(avail(d)).toBe(0);
    await f.stop();
    expect(f.detail!().enospc).toBe(true);
    const g = diskFill.create(spec({ path: d, leave: '25%' }), testCtx());
    await g.start();
    const left = avail(d);
    expect(Math.abs(left - 2 * (1 << 20))).toBeLessThanOrEqual(4096);
    await g.stop();
    expect(avail(d)).toBe(8 << 20);
  });

  it('refuses the root filesystem unless allowRootFs, and says so in one line', async () => {
    const d = mkdtempSync(join(tmpdir(), `fl15-${process.pid}-rootfs-`));
    dirs.push(d);
    const f = diskFill.create(spec({ path: d, leave: '1MiB' }), testCtx());
    const onRoot = spawnSync('stat', ['-c', '%d', d]).stdout.toString() === spawnSync('stat', ['-c', '%d', '/']).stdout.toString();
    if (onRoot) await expect(f.start()).rejects.toThrow(/is on the root filesystem; .* allowRootFs: true/);
    else await expect(f.start()).resolves.toBeUndefined().finally(() => f.stop());
    expect(diskFill.params.safeParse({ path: '/x', leave: '5 apples' }).success).toBe(false);
  });
});
