/**
 * Connection slots (the "slots" job): slot s is one pipelining place on
 * connection s % connections. Free slots are a stack, so the most recently
 * freed connection is reused first and low rates keep few connections warm;
 * connections open on first use. Each busy slot holds its request, so
 * timeouts are one periodic pass instead of a timer per request.
 */

export interface SlotRequest {
  /** Performance.now() ms when the request was handed to its transport. */
  readonly sentAt: number;
  /** The request is over (answered, failed or recorded unfinished). */
  readonly done: boolean;
  /** Its timeout passed: cancel it. */
  timeout(): void;
  /** Whether the sweep may cancel it now (see Transport.cancellable). */
  cancellable(): boolean;
}

export class Slots<R extends SlotRequest> {
  readonly max: number;
  readonly connections: number;
  /** Slots handed out so far (slots ≥ this have never been used). */
  opened = 0;
  private free: number[] = [];
  /** The request on each slot. */
  readonly busy: (R | undefined)[] = [];
  inFlight = 0;

  constructor(connections: number, pipelining: number) {
    this.connections = connections;
    this.max = Math.max(1, connections * pipelining);
  }

  /** A free slot (its connection is slot % connections); -1 when every slot is busy. */
  acquire(): number {
    const free = this.free;
    if (free.length > 0) return free.pop()!;
    if (this.opened >= this.max) return -1;
    this.busy.push(undefined);
    return this.opened++;
  }

  take(slot: number, r: R): void {
    this.busy[slot] = r;
    this.inFlight++;
  }

  /** The request on `slot` is sent again as `r` (a retry): the slot stays busy. */
  replace(slot: number, r: R): void {
    this.busy[slot] = r;
  }

  release(slot: number): void {
    this.busy[slot] = undefined;
    this.inFlight--;
    this.free.push(slot);
  }

  /** Cancels every request older than `limitMs`. */
  sweep(now: number, limitMs: number): void {
    if (this.inFlight === 0) return;
    const reqs = this.busy;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i];
      if (r !== undefined && now - r.sentAt >= limitMs && r.cancellable()) r.timeout();
    }
  }
}
