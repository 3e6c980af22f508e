/**
 * Output files are checked before any load is sent, and written only where a
 * result can go: a regular file, new or replaced atomically, never a directory,
 * FIFO or device node, never by creating directories (nor hanging in /proc).
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, lstatSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { cli, runScenario } from '../helpers/run.ts';
import { countingServer, type TestServer } from '../helpers/servers.ts';
import { publish } from '../../src/report/index.ts';

let dir: string;
let server: TestServer | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), `faultline-h10-outputs-${process.pid}-`));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A scenario file whose run, if it happened, would send requests for 10 s. */
function scenario(url: string): string {
  const f = join(dir, `s-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify({ target: url, requests: [{ path: '/' }], load: { profile: 'constant', rate: 20, duration: '10s' } }));
  return f;
}

async function startupMs(): Promise<number> {
  const t = performance.now();
  await cli(['--version'], { timeoutMs: 30_000 });
  return performance.now() - t;
}

describe('outputs are checked before any load is sent', () => {
  it('--json into a missing directory: exit 2 within 2 s (beyond start-up), the target receives nothing, nothing is created', async () => {
    server = await countingServer();
    const base = await startupMs();
    const missing = join(dir, 'no-such-dir', 'deeper', 'r.json');
    const t = performance.now();
    const r = await cli(['run', scenario(server.url), '--json', missing], { timeoutMs: 30_000 });
    const took = performance.now() - t;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist \(faultline does not create it\)/);
    expect(took - base).toBeLessThan(2000);
    expect(server.count()).toBe(0);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });

  it('/proc, a directory, a FIFO and a device node are refused with one line each, and every problem is listed', async () => {
    server = await countingServer();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const sub = join(dir, 'a-dir');
    mkdirSync(sub);
    const r = await cli(['run', scenario(server.url), '--json', '/proc/nope/x.json', '--html', sub, '--junit', fifo, '--hdr-log', '/dev/null'], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--json: .*\/proc\/nope/);
    expect(r.stderr).toMatch(/--html: .* is a directory/);
    expect(r.stderr).toMatch(/--junit: .* is a FIFO/);
    expect(r.stderr).toMatch(/--hdr-log: \/dev\/null is a device node/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(server.count()).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a symlink is followed: the file it names is replaced, the link stays, and the report says where it led', async () => {
    server = await countingServer();
    const real = join(dir, 'real.json');
    writeFileSync(real, 'old');
    const link = join(dir, 'link.json');
    symlinkSync(real, link);
    const f = join(dir, 'short.json');
    writeFileSync(f, JSON.stringify({ target: server.url, requests: [{ path: '/' }], load: { profile: 'constant', rate: 20, duration: '1s' } }));
    const r = await cli(['run', f, '--json', link], { timeoutMs: 60_000, cwd: dir });
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(real, 'utf8')).outcome.exitCode).toBe(0);
    expect(r.stdout + r.stderr).toContain(`→ ${real}`);
  });
});

describe('a failure to write at the end', () => {
  it('is reported, exits non-zero, and the result is still kept in the state directory', async () => {
    server = await countingServer();
    const result = await runScenario({ target: server.url, requests: [{ path: '/' }], load: { profile: 'constant', rate: 20, duration: '500ms' }, engine: { workers: 1 } });
    expect(result.outcome.exitCode).toBe(0);
    // The directory was there when the run began and is gone when the report is written.
    const gone = join(dir, 'gone');
    mkdirSync(gone);
    rmSync(gone, { recursive: true });
    const state = join(dir, 'state');
    let printed = '';
    const out = new Writable({
      write(c, _e, cb) {
        printed += c;
        cb();
      },
    }) as unknown as NodeJS.WriteStream;
    const err = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    let published;
    try {
      published = await publish(result, { json: join(gone, 'r.json') }, { stateDir: state, quiet: true, out });
    } finally {
      process.stderr.write = err;
    }
    expect(published.outcome.exitCode).toBe(4);
    expect(published.outcome.reason).toMatch(/could not write .*gone\/r\.json/);
    expect(printed).toMatch(/could not write/);
    expect(JSON.parse(readFileSync(join(state, 'last-result.json'), 'utf8')).timeline.windows.length).toBeGreaterThan(0);
  });
});
