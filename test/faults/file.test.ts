/**
 * file: a real service reading its file sees it removed, replaced, truncated;
 * the original comes back byte for byte (same inode, same mode); with
 * `restart`, a service that needs the file fails to start without it and is
 * ready again after the restore. The backup is in the journal before the file
 * changes, and `recover` restores it after the run is gone.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serviceSpecSchema } from '../../src/services/schema.ts';
import { startServices, type ManagedServices } from '../../src/services/manager.ts';
import { file, restoreFile } from '../../src/faults/kinds/file.ts';
import { MemoryJournal } from '../../src/faults/journal.ts';
import type { FaultSpecBase } from '../../src/faults/types.ts';
import { testCtx } from '../fixtures/faultCtx.ts';
import { freePorts } from '../fixtures/proc.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures');
const running: ManagedServices[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stopAll()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(env: Record<string, string> = {}): Promise<{ reg: ManagedServices; port: number; path: string; original: Buffer; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `fl15-${process.pid}-file-`));
  dirs.push(dir);
  const path = join(dir, '.env');
  const original = Buffer.concat([Buffer.from('DATABASE_URL=postgres://127.0.0.1:5432/app\n'), randomBytes(4000)]);
  writeFileSync(path, original, { mode: 0o640 });
  const [port] = await freePorts(1);
  const reg = await startServices(
    { api: serviceSpecSchema.parse({ command: process.execPath, args: [join(fixtures, 'service-resource.js')], ports: [port], ready: { port: true, timeout: '3s' }, env: { FILE_PATH: path, ...env } }) },
    { cwd: dir },
  );
  running.push(reg);
  return { reg, port, path, original, dir };
}

const read = (port: number) => fetch(`http://127.0.0.1:${port}/file`).then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }));
const spec = (params: Record<string, unknown>): FaultSpecBase => ({ name: '.env gone', kind: 'file', target: 'api', duration: 1000, params: file.params.parse(params) });

describe('file', () => {
  it('remove: the service cannot read it while the fault is on; restored byte for byte, same inode and mode', async () => {
    const { reg, port, path, original, dir } = await setup();
    const ino = statSync(path).ino;
    const journal = new MemoryJournal();
    const f = file.create(spec({ path }), testCtx({ services: reg, journal }));
    await f.start();
    const [entry] = [...journal.entries.values()];
    expect(entry.undo).toMatchObject({ type: 'file', path, mode: 0o640, backup: expect.stringMatching(/\/\.\.env\.faultline-/) });
    expect(await read(port)).toMatchObject({ status: 500, body: Buffer.from('ENOENT') });
    await f.stop();
    expect(readFileSync(path).equals(original)).toBe(true);
    expect(statSync(path).ino).toBe(ino);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect((await read(port)).body.equals(original)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('.faultline-'))).toEqual([]);
    expect(journal.entries.size).toBe(0);
    expect(f.measured!()!).toMatchObject({ summary: 'remove .env → absent at the end', noEffect: false });
  });

  it('replace and truncate: the service reads the new bytes; the original comes back', async () => {
    const { reg, port, path, original } = await setup();
    const r = file.create(spec({ path, action: 'replace', content: 'DATABASE_URL=\n' }), testCtx({ services: reg }));
    await r.start();
    expect((await read(port)).body.toString()).toBe('DATABASE_URL=\n');
    await r.stop();
    const t = file.create(spec({ path, action: 'truncate', size: 10 }), testCtx({ services: reg }));
    await t.start();
    expect((await read(port)).body.equals(original.subarray(0, 10))).toBe(true);
    await t.stop();
    expect(t.measured!()!.summary).toBe('truncate .env → 10 bytes at the end');
    expect((await read(port)).body.equals(original)).toBe(true);
  });

  it('unreadable: a service running as root reads it anyway, and the fault says "no effect"', async () => {
    const { reg, port, path, original } = await setup();
    const f = file.create(spec({ path, action: 'unreadable' }), testCtx({ services: reg }));
    await f.start();
    expect(statSync(path).mode & 0o777).toBe(0);
    const during = await read(port);
    await f.stop();
    expect(statSync(path).mode & 0o777).toBe(0o640);
    if (process.getuid?.() === 0) {
      expect(during.status).toBe(200);
      expect(f.measured!()!.noEffect).toBe(true);
    } else {
      expect(during).toMatchObject({ status: 500, body: Buffer.from('EACCES') });
      expect(f.measured!()!.noEffect).toBe(false);
    }
    expect(readFileSync(path).equals(original)).toBe(true);
  });

  it('remove with restart: a service that needs the file does not come back without it, and is ready again after the restore', async () => {
    const { reg, port, path, original } = await setup({ REQUIRE_FILE: '' });
    // REQUIRE_FILE is checked at start: point it at the .env now that the first start is done.
    (reg.get('api')!.spec.env as Record<string, string>).REQUIRE_FILE = path;
    const f = file.create(spec({ path, restart: true }), testCtx({ services: reg }));
    await f.start();
    expect(reg.get('api')!.replicas()[0].state).toBe('down');
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    await f.stop();
    expect(reg.get('api')!.replicas()[0].state).toBe('ready');
    expect((await read(port)).body.equals(original)).toBe(true);
    const d = f.detail!();
    expect((d.restartWithout as { error: string }).error).toMatch(/exited with code 1 before it was ready/);
    expect((d.restartToReadyMs as number[])[0]).toBeGreaterThan(0);
    expect((d.downMs as number[])[0]).toBeGreaterThan((d.restartToReadyMs as number[])[0]);
    expect(f.measured!()!.summary).toMatch(/^remove \.env, restart → absent at the end; restart without it failed: .*; restored, ready again in \d+ ms$/);
  });

  it('recover (restoreFile from the journal entry) puts it back after the run is gone; refuses when the original is lost', async () => {
    const { path, original } = await setup();
    const journal = new MemoryJournal();
    const f = file.create(spec({ path, action: 'replace', content: 'x' }), testCtx({ journal }));
    await f.start();
    const [entry] = [...journal.entries.values()];
    // The run dies here (no stop); recover restores from the entry alone.
    chmodSync(path, 0o600);
    expect(restoreFile(entry.undo as Parameters<typeof restoreFile>[0])).toMatch(/restored \(sha256 [0-9a-f]{12}… verified\)$/);
    expect(readFileSync(path).equals(original)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    // Twice is fine (the original is in place).
    expect(restoreFile(entry.undo as Parameters<typeof restoreFile>[0])).toMatch(/restored/);
    writeFileSync(path, 'something else');
    expect(() => restoreFile(entry.undo as Parameters<typeof restoreFile>[0])).toThrow(/is missing and .* is not the original/);
  });
});
