/**
 * Small parts shared by the demo's payment and shop servers: a fixed number
 * of slots with a FIFO queue (the capacity model of a thread pool or a
 * provider's concurrency limit), reading settings from the environment, and
 * leaving with the parent.
 */
import type { Server } from 'node:http';

/** A fixed number of slots; requests beyond them wait in arrival order. */
export class Slots {
  readonly size: number;
  private busy = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.size = size;
  }

  /** Resolves when a slot is free; the function it returns frees it (calls after the first do nothing). */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.busy++;
        let freed = false;
        resolve(() => {
          if (freed) return;
          freed = true;
          this.busy--;
          this.waiting.shift()?.();
        });
      };
      if (this.busy < this.size) grant();
      else this.waiting.push(grant);
    });
  }

  get inUse(): number {
    return this.busy;
  }

  get queued(): number {
    return this.waiting.length;
  }
}

/** A positive number from the environment, or the default; a bad value ends the process with one line. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!(Number.isFinite(n) && n > 0)) fail(`${name}: expected a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

export function fail(message: string): never {
  process.stderr.write(`${process.argv[1]?.replace(/^.*\//, '') ?? 'demo'}: ${message}\n`);
  process.exit(2);
}

/**
 * Listens on 127.0.0.1:$PORT and stops cleanly on SIGTERM/SIGINT. The process
 * also leaves when its parent (faultline) is gone, even after a kill -9, so a
 * demo never leaves a server behind holding its port.
 */
export function serve(server: Server, name: string): void {
  const port = envNumber('PORT', NaN);
  if (!Number.isInteger(port)) fail('PORT: expected the port to listen on (faultline sets it for managed services)');
  server.keepAliveTimeout = 60_000;
  server.on('error', (e: NodeJS.ErrnoException) => fail(e.code === 'EADDRINUSE' ? `127.0.0.1:${port} is already in use` : e.message));
  server.listen(port, '127.0.0.1', () => process.stdout.write(`${name} listening on 127.0.0.1:${port} (pid ${process.pid})\n`));
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const parent = process.ppid;
  // process.ppid is read live: it changes when the parent dies and we are re-parented.
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 250).unref();
}
