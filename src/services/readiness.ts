/** Readiness probes for managed services: a TCP connect or an HTTP GET, loopback only. */
import { connect } from 'node:net';
import { isLoopbackHost } from '../config/units.ts';

/** True when something accepts a TCP connection on host:port within timeoutMs. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  if (!isLoopbackHost(host)) return Promise.reject(new Error(`refusing to probe non-loopback host ${host}`));
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** True when GET url answers 2xx within timeoutMs. */
export async function httpOk(url: string, timeoutMs = 1_000): Promise<boolean> {
  const u = new URL(url);
  if (!isLoopbackHost(u.hostname)) throw new Error(`refusing to probe non-loopback URL ${url}`);
  try {
    const res = await fetch(u, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}

/** A probe for one replica: what it waits for (for messages) and the check itself. */
export interface Probe {
  describe: string;
  check(): Promise<boolean>;
}

/** Port probe: tries IPv4 loopback, then IPv6 (a server bound to "localhost" may be on ::1 only). */
export function portProbe(port: number): Probe {
  return {
    describe: `port ${port} to accept connections`,
    check: async () => (await canConnect(port, '127.0.0.1')) || (await canConnect(port, '::1')),
  };
}

export function urlProbe(url: string): Probe {
  return { describe: `GET ${url} to answer 2xx`, check: () => httpOk(url) };
}
