/**
 * The one small interface every TCP toxic implements, plus optional abilities
 * as separate small interfaces (as Toxiproxy's CleanupToxic / StatefulToxic).
 *
 * A toxic sees one chunk at a time, in order, on one direction of one
 * connection. It hands data on with `ctx.push`. When the toxic set of the
 * proxy changes, `ctx.signal` aborts: sleeps return early and the toxic must
 * push what it still holds at once. Pushes after the abort are not lost: the
 * link puts them back, in order, at the head of its queue, and the new toxic
 * chain processes them (so a change applies at a chunk boundary and never
 * drops or reorders bytes).
 */
import { z } from 'zod';
import type { ToxicFactory } from '../base.ts';

/** Per-connection control a toxic may use. */
export interface ConnControl {
  /** Closes both sides of the connection (FIN). */
  close(): void;
  /** Resets both sides of the connection (RST: the peer sees ECONNRESET). */
  reset(): void;
}

export interface ToxicContext extends ConnControl {
  /**
   * Hands data to the next toxic or the destination socket; resolves once it was taken
   * (backpressure included): true when it went on, false when it was re-queued because
   * the toxic set changed (it will come back through the new chain).
   */
  push(data: Buffer): Promise<boolean>;
  /** Sleeps; resolves false early when the toxic set changed (ctx.signal aborted). */
  sleep(ms: number): Promise<boolean>;
  readonly signal: AbortSignal;
  /** When the chunk arrived from the socket (performance.now() ms); kept across a re-queue. */
  readonly arrivedAt: number;
  /** This toxic's state on this connection direction (StatefulToxic), starts empty. */
  readonly state: Record<string, number>;
}

export interface Toxic {
  /** One chunk in; zero or more chunks out through ctx.push. */
  pipe(chunk: Buffer, ctx: ToxicContext): Promise<unknown>;
  /** Optional: acts on the connection without data (timers); returns its cleanup. Called when the toxic becomes active on a connection. */
  attach?(conn: ConnControl): () => void;
  /**
   * Optional: runs when the toxic is removed while the connection lives (not when it is
   * updated): Toxiproxy's CleanupToxic (timeout closes the connection it held).
   */
  cleanup?(conn: ConnControl): void;
  /** Optional: runs when the source closed and all its data went through, before the close is passed on (slow_close). */
  beforeEnd?(sleep: (ms: number) => Promise<boolean>): Promise<void>;
  /** Optional: a proxy-level toxic that disables the whole proxy while present (down). */
  readonly disablesProxy?: boolean;
}

/**
 * A toxic type: its name, Toxiproxy's attribute names and units (numbers in ms,
 * KB/s, µs, bytes; defaults filled), a factory, and the fault kind's params.
 */
export type ToxicType = ToxicFactory<Toxic>;

/** A fault's `stream`: which direction the toxic acts on (downstream by default). */
export const zStream = z.enum(['upstream', 'downstream']).optional();

/** Interruptible sleep: resolves true after ms, false at once when signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    // Infinity means "until interrupted": no timer at all.
    const t = Number.isFinite(ms)
      ? setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve(true);
        }, ms)
      : undefined;
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
