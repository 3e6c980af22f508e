/**
 * One direction of one proxied connection: a queue of chunks and a serial pump
 * that takes each chunk through the toxic chain, in order, to the destination.
 *
 * Why it cannot hang, drop or reorder when toxics change (Toxiproxy's old bugs):
 * only one chunk is ever inside the chain; a change aborts the chain's signal,
 * so sleeps return at once, and whatever the toxics still push is put back at
 * the head of the queue in push order; the new chain is applied before the next
 * chunk. A change never waits for the pump, so the API call returns at once.
 */
import type { Socket } from 'node:net';
import type { StreamDirection } from './types.ts';
import type { ConnControl, Toxic, ToxicContext } from './toxics/types.ts';
import { sleep } from './toxics/types.ts';
import type { ToxicEntry } from './base.ts';

/** Above this many queued bytes the source is paused (memory stays flat under any toxic). */
const HIGH_WATER = 512 * 1024;

interface Chunk {
  data: Buffer;
  at: number;
}

/** What a link needs from its connection. */
export interface LinkOwner extends ConnControl {
  /** Random source in [0, 1) for the toxicity roll. */
  random(): number;
}

export class Link {
  readonly stream: StreamDirection;
  private readonly src: Socket;
  private readonly dst: Socket;
  private readonly owner: LinkOwner;
  private queue: Chunk[] = [];
  private queued = 0;
  private stash: Chunk[] = [];
  private busy = false;
  private srcEnded = false;
  private endSent = false;
  private destroyAfterEnd = false;
  private dead = false;
  private chain: ToxicEntry<Toxic>[] = [];
  private pending: ToxicEntry<Toxic>[] | undefined;
  private ctl = new AbortController();
  private readonly paused = new Set<'queue' | 'drain'>();
  private readonly rolls = new WeakMap<ToxicEntry<Toxic>, boolean>();
  private readonly states = new WeakMap<ToxicEntry<Toxic>, Record<string, number>>();
  private readonly cleanups = new Map<ToxicEntry<Toxic>, () => void>();

  constructor(stream: StreamDirection, src: Socket, dst: Socket, owner: LinkOwner, toxics: ToxicEntry<Toxic>[]) {
    this.stream = stream;
    this.src = src;
    this.dst = dst;
    this.owner = owner;
    this.pending = toxics;
    this.applyPending();
    src.on('data', (d: Buffer) => this.onData(d));
    src.on('end', () => {
      this.srcEnded = true;
      this.kick();
    });
  }

  /** The proxy's toxic list changed: applied now if idle, else at the next chunk boundary. */
  setToxics(toxics: ToxicEntry<Toxic>[]): void {
    if (this.dead) return;
    this.pending = toxics;
    this.ctl.abort();
    if (!this.busy) this.applyPending();
  }

  /** The source is gone: after its data is through, end and then destroy the destination. */
  sourceGone(): void {
    this.srcEnded = true;
    this.destroyAfterEnd = true;
    this.kick();
  }

  /** The connection is closed or reset: stop everything, drop what is queued (nobody to deliver to). */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.ctl.abort();
    this.queue = [];
    this.stash = [];
    for (const undo of this.cleanups.values()) undo();
    this.cleanups.clear();
  }

  private onData(data: Buffer): void {
    if (this.dead) return;
    if (!this.busy && this.chain.length === 0 && this.pending === undefined) {
      // Fast path: no toxic and nothing queued, so writing now keeps order.
      if (!this.dst.write(data)) this.pauseUntilDrain();
      return;
    }
    this.queue.push({ data, at: performance.now() });
    this.queued += data.length;
    if (this.queued > HIGH_WATER) this.pause('queue');
    this.kick();
  }

  private pause(why: 'queue' | 'drain'): void {
    this.paused.add(why);
    this.src.pause();
  }

  private unpause(why: 'queue' | 'drain'): void {
    if (!this.paused.delete(why)) return;
    if (this.paused.size === 0 && !this.dead) this.src.resume();
  }

  private pauseUntilDrain(): void {
    if (this.paused.has('drain')) return;
    this.pause('drain');
    void this.drained().then(() => this.unpause('drain'));
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.dst.off('drain', done);
        this.dst.off('close', done);
        resolve();
      };
      this.dst.on('drain', done);
      this.dst.on('close', done);
    });
  }

  private applyPending(): void {
    const list = this.pending;
    if (!list) return;
    this.pending = undefined;
    this.ctl = new AbortController();
    const next: ToxicEntry<Toxic>[] = [];
    for (const e of list) {
      if (e.info.stream !== this.stream) continue;
      // Toxicity, the one place: rolled once per connection direction and toxic.
      let on = this.rolls.get(e);
      if (on === undefined) {
        on = e.info.toxicity >= 1 || (e.info.toxicity > 0 && this.owner.random() < e.info.toxicity);
        this.rolls.set(e, on);
        if (on) e.hits++;
      }
      if (on) next.push(e);
    }
    for (const [e, undo] of this.cleanups) {
      if (!next.includes(e)) {
        undo();
        this.cleanups.delete(e);
      }
    }
    // Removed (not replaced by an update of the same name): Toxiproxy's Cleanup runs.
    const names = new Set(list.map((e) => e.info.name));
    const removed = this.chain.filter((e) => e.impl.cleanup && !names.has(e.info.name));
    this.chain = next;
    for (const e of removed) e.impl.cleanup!(this.owner);
    for (const e of next) {
      if (e.impl.attach && !this.cleanups.has(e)) this.cleanups.set(e, e.impl.attach(this.owner));
    }
  }

  private kick(): void {
    if (this.busy || this.dead) return;
    this.pump().catch(() => this.owner.reset());
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      for (;;) {
        if (this.dead) return;
        if (this.pending) this.applyPending();
        const c = this.queue.shift();
        if (c) {
          this.queued -= c.data.length;
          if (this.queued <= HIGH_WATER / 2) this.unpause('queue');
          await this.run(c);
          if (this.stash.length) {
            for (const s of this.stash) this.queued += s.data.length;
            this.queue.unshift(...this.stash);
            this.stash = [];
          }
          continue;
        }
        if (!this.srcEnded || this.endSent) return;
        const signal = this.ctl.signal;
        for (const e of this.chain) {
          if (e.impl.beforeEnd) await e.impl.beforeEnd((ms) => sleep(ms, signal));
        }
        if (this.pending) continue; // toxics changed while waiting: go again with the new chain
        if (this.dead) return;
        this.endSent = true;
        if (this.destroyAfterEnd) this.dst.end(() => this.dst.destroy());
        else this.dst.end();
        return;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Takes one chunk through the chain; pushes after an abort go to the stash, in order. */
  private run(c: Chunk): Promise<boolean> {
    const chain = this.chain;
    const signal = this.ctl.signal;
    const stage = async (i: number, data: Buffer): Promise<boolean> => {
      if (this.dead) return true;
      if (signal.aborted) {
        this.stash.push({ data, at: c.at });
        return false;
      }
      if (i === chain.length) {
        if (this.dst.destroyed) return true;
        if (!this.dst.write(data)) await this.drained();
        return true;
      }
      const e = chain[i];
      let state = this.states.get(e);
      if (!state) this.states.set(e, (state = {}));
      let allOn = true;
      const ctx: ToxicContext = {
        push: async (d) => {
          const ok = await stage(i + 1, d);
          if (!ok) allOn = false;
          return ok;
        },
        sleep: (ms) => sleep(ms, signal),
        signal,
        arrivedAt: c.at,
        state,
        close: () => this.owner.close(),
        reset: () => this.owner.reset(),
      };
      await e.impl.pipe(data, ctx);
      return allOn;
    };
    return stage(0, c.data);
  }
}
