/** Loopback servers and clients for proxy tests. Everything listens on 127.0.0.1 port 0. */
import net from 'node:net';
import type { Server, Socket } from 'node:net';
import { TcpProxy } from '../../src/proxy/tcp.ts';

export interface Closable {
  port: number;
  close(): Promise<void>;
}

function track(server: Server): Closable & { sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function listen(server: Server): Promise<Closable & { sockets: Set<Socket> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return track(server);
}

/** Echoes every byte back. */
export function echoServer() {
  return listen(net.createServer((s) => s.pipe(s)));
}

/** Sends `bytes` of a counter pattern to each client, then ends. */
export function sourceServer(bytes: number) {
  return listen(
    net.createServer((s) => {
      s.end(pattern(0, bytes));
    }),
  );
}

/** Byte i of the counter pattern is i mod 251 (a prime, so chunk boundaries never line up with it). */
export function pattern(from: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (from + i) % 251;
  return b;
}

export async function tcpProxy(upstreamPort: number, random?: () => number): Promise<TcpProxy> {
  const p = new TcpProxy({ name: 'test', listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstreamPort}`, random });
  await p.start();
  return p;
}

export function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

export function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Time for `payload` to come back through an echo path, ms. */
export function roundTrip(s: Socket, payload: Buffer = Buffer.from('ping')): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let got = 0;
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= payload.length) {
        s.off('data', onData);
        s.off('error', reject);
        resolve(performance.now() - t0);
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.write(payload);
  });
}

/** Collects everything a socket receives until it closes; the error code if it errored. */
export function collect(s: Socket): Promise<{ data: Buffer; chunks: number[]; error?: string; endedAt: number }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const chunks: number[] = [];
    let error: string | undefined;
    s.on('data', (d: Buffer) => {
      parts.push(d);
      chunks.push(d.length);
    });
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on('close', () => resolve({ data: Buffer.concat(parts), chunks, error, endedAt: performance.now() }));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
