/**
 * Test targets on 127.0.0.1, each on a free port, each closing cleanly.
 * They have known behaviour so tests can check faultline against ground truth.
 */
import http from 'node:http';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface TestServer {
  url: string;
  port: number;
  /** Requests the server has seen. */
  count(): number;
  close(): Promise<void>;
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

function wrap(server: http.Server | net.Server, port: number, count: () => number): TestServer {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers every request with `status` and counts them. */
export async function countingServer(status = 200, body = 'ok'): Promise<TestServer> {
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    req.resume();
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return wrap(server, port, () => n);
}

/**
 * A fixed number of concurrent slots, each holding a request for `serviceMs`:
 * capacity = slots / serviceMs. Requests beyond the slots wait in a FIFO queue.
 */
export async function capacityServer(slots: number, serviceMs: number): Promise<TestServer> {
  let n = 0;
  let busy = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    busy--;
    const next = queue.shift();
    if (next) next();
  };
  const server = http.createServer((req, res) => {
    n++;
    req.resume();
    const serve = () => {
      busy++;
      setTimeout(() => {
        res.end('ok');
        release();
      }, serviceMs);
    };
    if (busy < slots) serve();
    else queue.push(serve);
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return wrap(server, port, () => n);
}

/** Lets `rate` requests/s through (token bucket, burst `burst`), answers 503 above it. */
export async function tokenBucketServer(rate: number, burst = Math.max(1, rate / 20)): Promise<TestServer> {
  let n = 0;
  let tokens = burst;
  let last = performance.now();
  const server = http.createServer((req, res) => {
    n++;
    req.resume();
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * rate);
    last = now;
    if (tokens >= 1) {
      tokens -= 1;
      res.end('ok');
    } else {
      res.writeHead(503);
      res.end('over capacity');
    }
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return wrap(server, port, () => n);
}

/** Accepts connections and resets each one (RST) as soon as a request arrives. */
export async function resetServer(): Promise<TestServer> {
  let n = 0;
  const server = net.createServer((s) => {
    s.once('data', () => {
      n++;
      s.resetAndDestroy();
    });
    s.on('error', () => {});
  });
  const port = await listen(server);
  return wrap(server, port, () => n);
}

/** Accepts connections and reads requests but never answers. */
export async function silentServer(): Promise<TestServer> {
  let n = 0;
  const server = net.createServer((s) => {
    s.on('data', () => n++);
    s.on('error', () => {});
  });
  const port = await listen(server);
  return wrap(server, port, () => n);
}

/** A port with nothing listening on it (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A counting HTTP server in its own process, so a test can SIGSTOP it. Reports its count on SIGUSR2 via stdout. */
export async function processServer(): Promise<TestServer & { child: ChildProcess; pid: number }> {
  const file = fileURLToPath(new URL('./process-server.mjs', import.meta.url));
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  let n = 0;
  const portP = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = /^port (\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
        const c = /^count (\d+)$/.exec(line);
        if (c) n = Number(c[1]);
      }
    });
    child.once('exit', () => reject(new Error('process server exited')));
  });
  const port = await portP;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    pid: child.pid!,
    count: () => n,
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * A raw-TCP HTTP/1.1 responder: answers every header block with a canned 200.
 * Far cheaper per request than node:http, so a test can make the generator,
 * not the target, the limit.
 */
export async function fastServer(): Promise<TestServer> {
  let n = 0;
  const RESP = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=60\r\n\r\nok');
  const SEP = Buffer.from('\r\n\r\n');
  // The generator's own HTTP/1.1 client is lean: this server must stay leaner (no strings, no copies).
  const batches: Buffer[] = [];
  const server = net.createServer((s) => {
    let carry: Buffer | undefined;
    s.on('data', (d: Buffer) => {
      const b = carry ? Buffer.concat([carry, d]) : d;
      let count = 0;
      let i = 0;
      let end = 0;
      while ((i = b.indexOf(SEP, i)) >= 0) {
        count++;
        i += 4;
        end = i;
      }
      carry = end === b.length ? undefined : b.subarray(end);
      if (count) {
        n += count;
        s.write(count === 1 ? RESP : (batches[count] ??= Buffer.concat(Array(count).fill(RESP))));
      }
    });
    s.on('error', () => {});
  });
  const port = await listen(server);
  return wrap(server, port, () => n);
}

/**
 * Answers at once, except between `from` and `to` ms after its first request,
 * when every response is delayed by `delayMs` (timed from the first request, so
 * the slow spell falls where the test put it in the run, however busy the machine).
 */
export async function hiccupServer(from: number, to: number, delayMs: number): Promise<TestServer> {
  let n = 0;
  let t0: number | undefined;
  const server = http.createServer((req, res) => {
    n++;
    req.resume();
    t0 ??= performance.now();
    const t = performance.now() - t0;
    if (t >= from && t < to) setTimeout(() => res.end('ok'), delayMs);
    else res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return wrap(server, port, () => n);
}

/** Answers 200 until `failAfterMs` after it started, then 500 to everything. */
export async function failingServer(failAfterMs: number): Promise<TestServer & { startedAt: number }> {
  let n = 0;
  const startedAt = performance.timeOrigin + performance.now();
  const server = http.createServer((req, res) => {
    n++;
    req.resume();
    res.writeHead(performance.timeOrigin + performance.now() - startedAt < failAfterMs ? 200 : 500);
    res.end();
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return { ...wrap(server, port, () => n), startedAt };
}
