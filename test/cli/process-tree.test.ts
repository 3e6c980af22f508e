/**
 * The process tree has no orphans. `node bin/faultline.js` on an old Node
 * re-runs itself on the pinned Node as a child (the wrapper); here the wrapper
 * is forced (FAULTLINE_WRAP=1) and started by the system's own `node` when
 * there is one, as a user's shell would. kill -9 of the wrapper stops the run
 * through its normal abort path; signals and exit statuses pass through.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { closedPort } from '../helpers/servers.ts';
import { BIN, ROOT } from '../helpers/run.ts';
import { procState, isGone, waitFor, forceKill } from '../fixtures/proc.ts';

const SERVICE = fileURLToPath(new URL('../fixtures/service-http.js', import.meta.url));
// The Node a user's shell finds first, outside node_modules (Node 20 on these machines); else ours.
const SYSTEM_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p)) ?? process.execPath;
const WRAP_ENV = { ...process.env, NO_COLOR: '1', FAULTLINE_WRAP: '1' };

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function externalService(): Promise<{ pid: number; port: number }> {
  const port = await closedPort();
  const child = spawn(process.execPath, [SERVICE], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => forceKill(child.pid!));
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return { pid: child.pid!, port };
}

function scenarioDir(port: number, pid: number): string {
  const dir = mkdtempSync(`${tmpdir()}/fl-h13-tree-`);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    `${dir}/s.json`,
    JSON.stringify({
      target: `http://127.0.0.1:${port}`,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 20, duration: '30s' },
      engine: { workers: 1, timeout: '1s' },
      faults: [{ name: 'freeze', kind: 'pause', pid, at: '500ms', duration: '20s' }],
    }),
  );
  return dir;
}

/** Every descendant of pid (threads' children included), from /proc. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {}
      for (const k of kids.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

function startWrapped(dir: string, stdio: 'pipe' | 'ignore' = 'pipe'): ChildProcess {
  const c = spawn(SYSTEM_NODE, [BIN, 'run', `${dir}/s.json`, '-q', '--json', `${dir}/r.json`], { cwd: dir, env: WRAP_ENV, stdio: ['ignore', stdio, stdio] });
  cleanup.push(() => {
    for (const p of descendants(c.pid!)) forceKill(p);
    forceKill(c.pid!);
  });
  return c;
}

describe('process tree', () => {
  it('kill -9 of the wrapper a shell started: within 2 s the service is resumed and no faultline process is left', async () => {
    const svc = await externalService();
    const dir = scenarioDir(svc.port, svc.pid);
    // As a user would: a shell starts it in the background and reports its pid.
    const sh = spawnSync('/bin/sh', ['-c', `"${SYSTEM_NODE}" "${BIN}" run s.json -q --json r.json >out.txt 2>err.txt & echo $!`], { cwd: dir, env: WRAP_ENV, encoding: 'utf8' });
    const wrapper = Number(sh.stdout.trim());
    expect(wrapper).toBeGreaterThan(1);
    cleanup.push(() => forceKill(wrapper));
    expect(await waitFor(() => procState(svc.pid) === 'T', 15_000), 'the pause fault stops the service').toBe(true);
    const tree = descendants(wrapper);
    cleanup.push(() => tree.forEach(forceKill));
    expect(tree.length).toBeGreaterThanOrEqual(2); // the real run and its pause watchdog
    process.kill(wrapper, 'SIGKILL');
    const t0 = Date.now();
    expect(await waitFor(() => procState(svc.pid) !== 'T', 2000), 'service resumed').toBe(true);
    expect(await waitFor(() => [wrapper, ...tree].every(isGone), 2000 - (Date.now() - t0)), `left: ${tree.filter((p) => !isGone(p))}`).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    // It stopped through its normal abort path: the fault undone and the measured data written.
    const r = JSON.parse(readFileSync(`${dir}/r.json`, 'utf8'));
    expect(r.outcome.exitCode).toBe(3);
    expect(r.timeline.events.some((e: { type: string; fault?: string }) => e.type === 'fault-stop' && e.fault === 'freeze')).toBe(true);
    expect(readFileSync(`${dir}/err.txt`, 'utf8')).toMatch(new RegExp(`pid ${wrapper}\\) is gone`));
  }, 40_000);

  it('SIGTERM to the wrapper: the run undoes its fault and exit 3 passes through', async () => {
    const svc = await externalService();
    const dir = scenarioDir(svc.port, svc.pid);
    const w = startWrapped(dir);
    let stderr = '';
    w.stderr!.on('data', (d) => (stderr += d));
    expect(await waitFor(() => procState(svc.pid) === 'T', 15_000)).toBe(true);
    w.kill('SIGTERM');
    const [code, signal] = await once(w, 'exit');
    expect([code, signal]).toEqual([3, null]);
    expect(procState(svc.pid)).not.toBe('T');
    expect(JSON.parse(readFileSync(`${dir}/r.json`, 'utf8')).outcome.reason).toMatch(/interrupted by SIGTERM/);
    expect(stderr).not.toMatch(/second SIGTERM/);
  }, 40_000);

  it('Ctrl-C at a terminal (SIGINT to the whole process group) is one interrupt, not two', async () => {
    const svc = await externalService();
    const dir = scenarioDir(svc.port, svc.pid);
    const w = spawn(SYSTEM_NODE, [BIN, 'run', `${dir}/s.json`, '-q', '--json', `${dir}/r.json`], { cwd: dir, env: WRAP_ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    cleanup.push(() => forceKill(-w.pid!));
    let stderr = '';
    w.stderr!.on('data', (d) => (stderr += d));
    expect(await waitFor(() => procState(svc.pid) === 'T', 15_000)).toBe(true);
    process.kill(-w.pid!, 'SIGINT'); // as the terminal does: wrapper and child both get it, and the wrapper forwards it
    const [code] = await once(w, 'exit');
    expect(code).toBe(3);
    expect(stderr).not.toMatch(/second SIGINT/);
    expect(procState(svc.pid)).not.toBe('T');
    const r = JSON.parse(readFileSync(`${dir}/r.json`, 'utf8'));
    expect(r.timeline.events.some((e: { type: string; fault?: string }) => e.type === 'fault-stop' && e.fault === 'freeze')).toBe(true);
  }, 40_000);

  it('the child\'s death by a signal is the wrapper\'s death by the same signal (not exit 143)', async () => {
    const w = spawn(SYSTEM_NODE, [BIN, 'proxy', '--api', '127.0.0.1:0'], { cwd: ROOT, env: WRAP_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    cleanup.push(() => forceKill(w.pid!));
    expect(await waitFor(() => descendants(w.pid!).length > 0, 10_000)).toBe(true);
    const [child] = descendants(w.pid!);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(child, 'SIGKILL');
    const [code, signal] = await once(w, 'exit');
    expect([code, signal]).toEqual([null, 'SIGKILL']);
  }, 20_000);

  it('exit codes pass through unchanged', async () => {
    const bad = spawnSync(SYSTEM_NODE, [BIN, 'run', '--url', 'http://127.0.0.1:9/', '--rate', '0', '--duration', '1s'], { cwd: ROOT, env: WRAP_ENV, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, 20_000);
});
