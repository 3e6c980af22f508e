/**
 * The reference target: Debian's nginx with one worker process, access log
 * off, keep-alive connections that are never closed for their request count
 * (nginx closes one after 1,000 requests by default), on 127.0.0.1 only,
 * pinned to its own core. Its stub_status counts requests at the server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { canPin } from './proc.ts';

export interface Nginx {
  /** `return 200` target. */
  url: string;
  /** A small static file, for the rate runs. */
  fileUrl: string;
  /** nginx's request counter (stub_status). Every reading counts itself: requests between two readings are the difference − 1. */
  requests(): Promise<number>;
  pid: number;
  pinned: boolean;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function config(dir: string, port: number, statusPort: number): string {
  return `# Written by faultline's bench; removed when the bench ends.
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  server {
    listen 127.0.0.1:${port};
    location = /ok.txt { root ${dir}/www; }
    location / { return 200 "ok"; }
  }
  server {
    listen 127.0.0.1:${statusPort};
    location = /status { stub_status; }
  }
}
`;
}

async function get(url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return r.text();
}

/** Starts nginx on `core` (when pinning is possible); resolves once it answers. */
export async function startNginx(core: string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-nginx-'));
  // nginx's worker may run as an unprivileged user: it must be able to read the static file.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'tmp'));
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'www', 'ok.txt'), 'ok\n');
  const port = await freePort();
  const statusPort = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), config(dir, port, statusPort));
  const pinned = canPin();
  const args = ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')];
  const child: ChildProcess = pinned ? spawn('taskset', ['-c', core, 'nginx', ...args], { stdio: 'ignore' }) : spawn('nginx', args, { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}/`;
  const statusUrl = `http://127.0.0.1:${statusPort}/status`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await get(url)) === 'ok') break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      let log = '';
      try {
        log = readFileSync(join(dir, 'error.log'), 'utf8').trim().split('\n').slice(-3).join(' | ');
      } catch {
        // no log
      }
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start${log ? `: ${log}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    fileUrl: `http://127.0.0.1:${port}/ok.txt`,
    pid: child.pid!,
    pinned,
    async requests() {
      // "Active connections: 1\nserver accepts handled requests\n 3 3 7\n...": the third number.
      const text = await get(statusUrl);
      const m = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(text);
      if (!m) throw new Error(`unexpected stub_status: ${text.slice(0, 100)}`);
      return Number(m[3]);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nginx and wrk from Debian: present, installed now (as root with apt-get), or why not. */
export function ensureDebianTools(names: string[], log: (s: string) => void): Record<string, { ok: boolean; note: string }> {
  const out: Record<string, { ok: boolean; note: string }> = {};
  const has = (n: string) => spawnSync('sh', ['-c', `command -v ${n}`]).status === 0;
  const missing = names.filter((n) => !has(n));
  for (const n of names) if (has(n)) out[n] = { ok: true, note: 'found' };
  if (missing.length === 0) return out;
  const root = process.getuid?.() === 0;
  const apt = has('apt-get');
  if (!root || !apt) {
    for (const n of missing) out[n] = { ok: false, note: `not installed, and the bench cannot install it (${!apt ? 'no apt-get' : 'not root'}): apt-get install -y ${n}` };
    return out;
  }
  log(`installing ${missing.join(', ')} with apt-get…`);
  let r = spawnSync('apt-get', ['install', '-y', ...missing], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    // A fresh machine has no package lists yet.
    spawnSync('apt-get', ['update'], { encoding: 'utf8', timeout: 300_000 });
    r = spawnSync('apt-get', ['install', '-y', ...missing], { encoding: 'utf8', timeout: 300_000 });
  }
  for (const n of missing) {
    out[n] = has(n) ? { ok: true, note: 'installed by the bench (apt-get)' } : { ok: false, note: `apt-get install ${n} failed: ${(r.stderr || '').trim().split('\n').pop()}` };
  }
  return out;
}
