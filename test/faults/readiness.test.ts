import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, existsSync, rmSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeldProcess, waitReady, probeUntil, zReady, zUndone } from '../../src/faults/readiness.ts';
import { isGone, waitFor, forceKill } from '../fixtures/proc.ts';

const now = () => performance.timeOrigin + performance.now();
const held: HeldProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const h of held.splice(0)) {
    forceKill(-h.pid);
    await h.exited;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function spawnHeld(command: string, beforeRun?: (pid: number) => Promise<void>): Promise<HeldProcess> {
  const h = await HeldProcess.spawn(command, { beforeRun });
  held.push(h);
  return h;
}

describe('readiness', () => {
  it('runs the command only after beforeRun (the journal) has returned', async () => {
    const d = mkdtempSync(join(tmpdir(), `faultline-ready-${process.pid}-`));
    dirs.push(d);
    const flag = join(d, 'ran');
    let sawFlag: boolean | undefined;
    let gotPid = 0;
    const h = await spawnHeld(`touch ${flag}; sleep 30`, async (pid) => {
      gotPid = pid;
      await new Promise((r) => setTimeout(r, 150));
      sawFlag = existsSync(flag);
    });
    expect(sawFlag).toBe(false);
    expect(gotPid).toBe(h.pid);
    expect(await waitFor(() => existsSync(flag), 2000)).toBe(true);
  });

  it('a line condition resolves when the line is printed, not when the command started', async () => {
    const t0 = now();
    const h = await spawnHeld('echo warming up; sleep 0.6; echo "LOCK TABLE"; sleep 30');
    const at = await waitReady(h, zReady.parse({ line: '^LOCK' }));
    expect(at - t0).toBeGreaterThanOrEqual(550);
    expect(at - t0).toBeLessThan(3000);
    expect(h.running).toBe(true);
  });

  it('a running condition holds after the grace time; a command that exits first is an error naming its output', async () => {
    const t0 = now();
    const ok = await spawnHeld('sleep 30');
    const at = await waitReady(ok, zReady.parse({ running: '300ms' }));
    expect(at - t0).toBeGreaterThanOrEqual(290);
    const bad = await spawnHeld('echo "psql: could not connect" >&2; exit 2');
    await expect(waitReady(bad, zReady.parse({ running: '2s' }))).rejects.toThrow('waited for it still running after 2s: the command exited with code 2: psql: could not connect');
    const quiet = await spawnHeld('exit 0');
    await expect(waitReady(quiet, zReady.parse({ line: true }))).rejects.toThrow('waited for its first output line: the command exited with code 0');
  });

  it('a line condition times out with its timeout', async () => {
    const h = await spawnHeld('sleep 30');
    const t0 = now();
    await expect(waitReady(h, zReady.parse({ line: true, timeout: '300ms' }))).rejects.toThrow('not seen after 0.3s');
    expect(now() - t0).toBeLessThan(2000);
  });

  it('a port probe waits for the port to accept, or with when: down, to refuse', async () => {
    const s: Server = createServer((c) => c.destroy());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    expect(await probeUntil(zUndone.parse({ port, timeout: '1s' }))).toBeTypeOf('number');
    const t0 = now();
    setTimeout(() => s.close(), 300);
    const down = await probeUntil(zUndone.parse({ port, when: 'down', timeout: '3s' }));
    expect(down! - t0).toBeGreaterThanOrEqual(250);
    expect(await probeUntil(zUndone.parse({ port, timeout: '200ms' }))).toBeUndefined();
  });

  it('release ends the whole process group and resolves when it has exited', async () => {
    const d = mkdtempSync(join(tmpdir(), `faultline-ready-${process.pid}-`));
    dirs.push(d);
    const h = await spawnHeld(`trap '' TERM; sleep 30 & echo $! > ${join(d, 'bg')}; echo up; wait`);
    await waitReady(h, zReady.parse({ line: 'up' }));
    const bg = Number(readFileSync(join(d, 'bg'), 'utf8'));
    const t0 = now();
    const at = await h.release(300); // ignores SIGTERM: SIGKILL after the grace
    expect(at - t0).toBeGreaterThanOrEqual(250);
    expect(h.running).toBe(false);
    expect(await waitFor(() => isGone(bg), 2000)).toBe(true);
  });

  it('the schema asks for exactly one condition and loopback URLs, with an example', () => {
    expect(zReady.safeParse({}).error?.issues[0].message).toContain('give exactly one of line, running, port, url (got none)');
    expect(zReady.safeParse({ line: true, port: 5432 }).error?.issues[0].message).toContain('(got line, port)');
    expect(zReady.safeParse({ url: 'http://203.0.113.9/health' }).success).toBe(false);
    expect(zReady.safeParse({ line: '(' }).success).toBe(false);
  });
});
