/**
 * A two-route test system for correlation tests: `/fast` answers from memory
 * (or, given `fastCapacity`, holds each request for `serviceMs` in one of
 * `slots`, so it has a known capacity); `/slow` calls a dependency through a
 * faultline proxy (so a latency fault on the proxy slows `/slow` only). The
 * dependency answers at once.
 */
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';

export interface TwoRoutes {
  /** The system under test (target origin). */
  url: string;
  /** The dependency's port (the proxy's upstream). */
  depPort: number;
  /** Sets the port `/slow` calls (the proxy's listen port). */
  via(port: number): void;
  close(): Promise<void>;
}

async function listen(s: net.Server): Promise<number> {
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as net.AddressInfo).port;
}

/** A free loopback port (bound, then released). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  const p = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

export async function twoRoutes(opts: { fastCapacity?: { slots: number; serviceMs: number } } = {}): Promise<TwoRoutes> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Server) =>
    s.on('connection', (c: net.Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
  const dep = http.createServer((req, res) => {
    req.resume();
    res.end('dep ok');
  });
  dep.keepAliveTimeout = 60_000;
  track(dep);
  const depPort = await listen(dep);
  let viaPort = depPort;
  let busy = 0;
  const queue: (() => void)[] = [];
  const fast = (res: http.ServerResponse) => {
    const cap = opts.fastCapacity;
    if (!cap) return void res.end('fast ok');
    const serve = () => {
      busy++;
      setTimeout(() => {
        res.end('fast ok');
        busy--;
        queue.shift()?.();
      }, cap.serviceMs);
    };
    if (busy < cap.slots) serve();
    else queue.push(serve);
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const app = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/slow') {
      const r = http.get({ host: '127.0.0.1', port: viaPort, path: '/', agent }, (up) => {
        up.resume();
        up.on('end', () => res.end('slow ok'));
      });
      r.on('error', () => {
        res.writeHead(502);
        res.end('dependency failed');
      });
    } else fast(res);
  });
  app.keepAliveTimeout = 60_000;
  track(app);
  const port = await listen(app);
  return {
    url: `http://127.0.0.1:${port}`,
    depPort,
    via: (p) => (viaPort = p),
    close: async () => {
      agent.destroy();
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => app.close(() => r())), new Promise<void>((r) => dep.close(() => r()))]);
    },
  };
}
