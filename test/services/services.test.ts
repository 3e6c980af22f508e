import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serviceSpecSchema, type ServiceSpecInput } from '../../src/services/schema.ts';
import { startServices, ServiceStartError, type ManagedServices } from '../../src/services/manager.ts';
import { freePorts, procState, isGone, waitFor, forceKill } from '../fixtures/proc.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures');
const spec = (s: ServiceSpecInput) => serviceSpecSchema.parse(s);
const dirs: string[] = [];
const running: ManagedServices[] = [];
const stray: number[] = [];

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'faultline-svc-'));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stopAll()));
  for (const pid of stray.splice(0)) forceKill(pid);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('serviceSpecSchema', () => {
  it('applies defaults and rejects unknown keys and non-loopback readiness URLs', () => {
    const s = spec({ command: 'node', ports: [4001], ready: { url: 'http://127.0.0.1:{port}/health', timeout: '2s' } });
    expect(s.args).toEqual([]);
    expect(s.ready?.timeout).toBe(2000);
    expect(s.restart).toEqual({ policy: 'no', delay: 0, max: undefined });
    expect(spec({ command: 'x', restart: 'on-failure' }).restart.policy).toBe('on-failure');
    expect(serviceSpecSchema.safeParse({ command: 'node', bogus: 1 }).success).toBe(false);
    const bad = serviceSpecSchema.safeParse({ command: 'node', ready: { url: 'http://203.0.113.1/health' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].message).toMatch(/loopback/);
    expect(serviceSpecSchema.safeParse({ command: 'node', ready: { port: true } }).success).toBe(false);
  });
});

describe('startServices', () => {
  it('starts one replica per port with PORT set, logs to files, and stops them all', async () => {
    const ports = await freePorts(2);
    const cwd = tmp();
    const reg = await startServices(
      { api: spec({ command: process.execPath, args: [join(fixtures, 'service-http.js'), '--replica={replica}'], ports, ready: { url: 'http://127.0.0.1:{port}/' } }) },
      { cwd },
    );
    running.push(reg);
    const api = reg.get('api')!;
    const pids = api.pids();
    expect(pids).toHaveLength(2);
    for (const [i, port] of ports.entries()) {
      const body = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { pid: number; port: number };
      expect(body).toMatchObject({ pid: pids[i], port });
    }
    expect(api.replicas().map((r) => r.state)).toEqual(['ready', 'ready']);
    const log = readFileSync(join(cwd, '.faultline/logs/api-1.log'), 'utf8');
    expect(log).toContain(`--replica=1`);
    expect(log).toContain(`pid ${pids[1]} port ${ports[1]}`);
    await reg.stopAll();
    for (const pid of pids) expect(isGone(pid)).toBe(true);
  });

  it('a service that never becomes ready: one-line error naming it, nothing left running', async () => {
    const [port] = await freePorts(1);
    const cwd = tmp();
    const t0 = Date.now();
    const err = await startServices(
      { stuck: spec({ command: process.execPath, args: [join(fixtures, 'service-never-ready.js')], ports: [port], ready: { port: true, timeout: '400ms' }, stopGrace: '1s' }) },
      { cwd },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ServiceStartError);
    expect(err.service).toBe('stuck');
    expect(err.message).toMatch(/^service stuck\[0\] \(port \d+\) did not become ready within 0\.4s \(waiting for port \d+ to accept connections\)/);
    expect(err.message).not.toContain('\n');
    expect(Date.now() - t0).toBeLessThan(3000);
    const pid = Number(/pid (\d+)/.exec(readFileSync(join(cwd, '.faultline/logs/stuck-0.log'), 'utf8'))![1]);
    stray.push(pid);
    expect(await waitFor(() => isGone(pid), 2000)).toBe(true);
  });

  it('a service that exits before it is ready fails fast with its exit code; an earlier service is stopped too', async () => {
    const [port] = await freePorts(1);
    const cwd = tmp();
    const err = await startServices(
      {
        first: spec({ command: process.execPath, args: [join(fixtures, 'service-http.js')], ports: [port] }),
        crashy: spec({ command: process.execPath, args: ['-e', 'process.exit(3)'], ready: { url: 'http://127.0.0.1:1/', timeout: '5s' } }),
      },
      { cwd },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ServiceStartError);
    expect(err.message).toMatch(/^service crashy\[0\] exited with code 3 before it was ready/);
    const pid = Number(/pid (\d+)/.exec(readFileSync(join(cwd, '.faultline/logs/first-0.log'), 'utf8'))![1]);
    stray.push(pid);
    expect(await waitFor(() => isGone(pid), 2000)).toBe(true);
  });

  it('a command that does not exist is a clear error', async () => {
    const err = await startServices({ ghost: spec({ command: 'no-such-command-faultline' }) }, { cwd: tmp() }).catch((e) => e);
    expect(err).toBeInstanceOf(ServiceStartError);
    expect(err.message).toMatch(/^service ghost: cannot run "no-such-command-faultline": .*ENOENT/);
  });

  it('stopAll ends a SIGSTOPped service gracefully (SIGCONT first) and kills grandchildren with the group', async () => {
    const [port] = await freePorts(1);
    const cwd = tmp();
    const reg = await startServices(
      {
        api: spec({ command: process.execPath, args: [join(fixtures, 'service-http.js')], ports: [port], stopGrace: '5s' }),
        wrapped: spec({ command: join(fixtures, 'service-with-child.sh'), stopGrace: '300ms' }),
      },
      { cwd },
    );
    running.push(reg);
    const apiPid = reg.get('api')!.pids()[0];
    const wrapperPid = reg.get('wrapped')!.pids()[0];
    const logFile = join(cwd, '.faultline/logs/wrapped-0.log');
    expect(await waitFor(() => /grandchild \d+/.test(readFileSync(logFile, 'utf8')), 3000)).toBe(true);
    const grandchild = Number(/grandchild (\d+)/.exec(readFileSync(logFile, 'utf8'))![1]);
    stray.push(grandchild);
    process.kill(apiPid, 'SIGSTOP');
    expect(await waitFor(() => procState(apiPid) === 'T', 1000)).toBe(true);
    const t0 = Date.now();
    await reg.stopAll();
    // The paused one ended on SIGTERM, well inside its 5 s grace; the wrapper ignored SIGTERM and was killed after 300 ms.
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(isGone(apiPid)).toBe(true);
    expect(isGone(wrapperPid)).toBe(true);
    expect(await waitFor(() => isGone(grandchild), 1000)).toBe(true);
  });

  it('restart policy on-failure brings a crashed replica back on a new pid', async () => {
    const [port] = await freePorts(1);
    const reg = await startServices(
      { api: spec({ command: process.execPath, args: [join(fixtures, 'service-http.js')], ports: [port], restart: { policy: 'on-failure', delay: '100ms' } }) },
      { cwd: tmp() },
    );
    running.push(reg);
    const api = reg.get('api')!;
    const [pid] = api.pids();
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => api.replicas()[0].state === 'ready' && api.pids()[0] !== pid, 5000)).toBe(true);
    expect(api.replicas()[0].restarts).toBe(1);
    const body = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { pid: number };
    expect(body.pid).toBe(api.pids()[0]);
  });

  it('restart() replaces a running replica and measures the time to ready', async () => {
    const [port] = await freePorts(1);
    const reg = await startServices(
      { api: spec({ command: process.execPath, args: [join(fixtures, 'service-http.js')], ports: [port], env: { DELAY_READY_MS: 300 } }) },
      { cwd: tmp() },
    );
    running.push(reg);
    const [before] = reg.get('api')!.pids();
    const [r] = await reg.restart('api', 0);
    expect(r.pid).not.toBe(before);
    expect(isGone(before)).toBe(true);
    expect(r.readyMs).toBeGreaterThanOrEqual(300);
    expect(r.readyMs).toBeLessThan(3000);
  });
});
