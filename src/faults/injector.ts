/**
 * The Injector starts and stops faults on their triggers and guarantees every
 * started fault is stopped: after its duration, when it finishes by itself,
 * after a failed start, or in undoAll() on any exit path. Faults never stop
 * themselves; they only say how (Fault.stop) and, optionally, when (finished).
 */
import type { TimelineEvent } from '../timeline.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from './types.ts';

/** What the coordinator tells the Injector on every tick. */
export interface InjectorTick {
  /** Absolute time, ms (the run's clock). */
  now: number;
  /** Time since the load started (the first stage after the baseline), ms; negative before it. */
  elapsedMs: number;
  /** False during the baseline: no fault starts before the load does. */
  loadStarted?: boolean;
  /** Planned arrival rate at this moment, req/s. */
  offeredRate: number;
  /** Index of the current stage. */
  stage: number;
}

export interface InjectorOptions {
  /** Default bound on each stop(), ms (default 10 s). */
  undoTimeoutMs?: number;
  /** Clock for events stamped after asynchronous work (default: performance.timeOrigin + performance.now()). */
  clock?: () => number;
}

type Phase = 'pending' | 'starting' | 'active' | 'stopping' | 'done';

interface Slot {
  spec: FaultSpecBase;
  phase: Phase;
  fault?: Fault;
  /** When the fault took effect, in tick.now's clock. */
  startedAt?: number;
  /** Settles when start() has (successfully or not). */
  starting?: Promise<void>;
  stopping?: Promise<string | undefined>;
  /** Set when the fault's finished() resolved. */
  finished?: boolean;
  /** start() threw: emitted a fault-start? */
  announced?: boolean;
  /** Set when the fault's effect ended by itself before its duration (effectEnded). */
  ended?: boolean;
  /** When the trigger fired, in tick.now's clock. */
  requestedAt?: number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export class Injector {
  private readonly slots: Slot[];
  private readonly ctx: FaultContext;
  private readonly kinds: Record<string, FaultKind>;
  private readonly onEvent: (e: TimelineEvent) => void;
  private readonly undoTimeoutMs: number;
  private readonly clock: () => number;
  private lastRate = 0;
  private closed = false;

  constructor(specs: FaultSpecBase[], ctx: FaultContext, kinds: Record<string, FaultKind>, onEvent: (e: TimelineEvent) => void, opts: InjectorOptions = {}) {
    this.slots = specs.map((spec) => ({ spec, phase: 'pending' }));
    this.ctx = ctx;
    this.kinds = kinds;
    this.onEvent = onEvent;
    this.undoTimeoutMs = opts.undoTimeoutMs ?? 10_000;
    this.clock = opts.clock ?? (() => performance.timeOrigin + performance.now());
  }

  /** Whether a pending fault's trigger holds: every trigger given must hold; none given means "at the start". */
  private triggered(spec: FaultSpecBase, s: InjectorTick): boolean {
    if (s.loadStarted === false) return false;
    if (spec.at !== undefined && s.elapsedMs < spec.at) return false;
    if (spec.atLoad !== undefined && s.offeredRate < spec.atLoad) return false;
    if (spec.atStage !== undefined && s.stage < spec.atStage) return false;
    return true;
  }

  /** Called by the coordinator every ~50 ms and at every stage start; starts and stops faults whose triggers fire. */
  async tick(state: InjectorTick): Promise<void> {
    this.lastRate = state.offeredRate;
    const work: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      // Phases change synchronously here, so an overlapping tick never starts or stops a fault twice.
      if (slot.phase === 'pending' && !this.closed && this.triggered(slot.spec, state)) {
        work.push(this.start(slot, state));
      } else if (slot.phase === 'active') {
        const d = slot.spec.duration;
        const due = slot.ended === true || (d !== undefined ? state.now - slot.startedAt! >= d : slot.finished === true);
        if (due) work.push(this.stop(slot, state.offeredRate));
      }
    }
    await Promise.all(work);
  }

  private start(slot: Slot, state: InjectorTick): Promise<void> {
    slot.phase = 'starting';
    slot.startedAt = state.now;
    slot.requestedAt = state.now;
    const { spec } = slot;
    slot.starting = (async () => {
      try {
        const kind = this.kinds[spec.kind];
        if (!kind) throw new Error(`unknown fault kind ${JSON.stringify(spec.kind)}`);
        slot.fault = kind.create(spec, this.ctx);
        const before = this.clock();
        const realBefore = performance.timeOrigin + performance.now();
        const effectAt = await slot.fault.start();
        // The fault is in effect from when the kind saw its effect in place (a `ready`
        // condition), else from when start() returned (arming a watchdog, an exec command
        // take time): its duration and its event count from there.
        slot.startedAt = state.now + (typeof effectAt === 'number' ? effectAt - realBefore : this.clock() - before);
      } catch (e) {
        this.onEvent({ t: this.clock(), type: 'fault-error', fault: spec.name, message: `start failed: ${message(e)}` });
        // A start that failed half-way may have changed something: undo it now.
        if (!slot.stopping) slot.phase = 'active';
        await this.stop(slot, state.offeredRate, false);
        return;
      }
      if (slot.phase !== 'starting') return; // undoAll() overtook us
      slot.phase = 'active';
      slot.announced = true;
      this.onEvent({ t: slot.startedAt!, type: 'fault-start', fault: spec.name, kind: spec.kind, target: spec.target, offeredRate: state.offeredRate, requestedAt: slot.requestedAt });
      const fin = slot.fault.finished?.();
      if (fin && spec.duration === undefined) void fin.then(() => (slot.finished = true));
      void slot.fault.effectEnded?.()?.then(() => (slot.ended = true));
    })();
    return slot.starting;
  }

  /** Stops one fault (once); resolves to an error message when the undo failed. */
  private stop(slot: Slot, offeredRate: number, announce = true, timeoutMs = this.undoTimeoutMs): Promise<string | undefined> {
    if (slot.stopping) return slot.stopping;
    slot.phase = 'stopping';
    const { spec, fault } = slot;
    const requestedAt = this.clock();
    slot.stopping = (async () => {
      let error: string | undefined;
      let undoneAt: number | undefined;
      if (fault) {
        try {
          const realBefore = performance.timeOrigin + performance.now();
          const t = await withTimeout(fault.stop(), timeoutMs, `undo of ${spec.name}`);
          if (typeof t === 'number') undoneAt = requestedAt + (t - realBefore);
        } catch (e) {
          error = message(e);
          this.onEvent({ t: this.clock(), type: 'fault-error', fault: spec.name, message: `undo failed: ${error}` });
        }
      }
      slot.phase = 'done';
      if (announce && slot.announced) {
        let detail: Record<string, unknown> | undefined;
        let effect: MeasuredEffect | undefined;
        try {
          detail = fault?.detail?.();
        } catch {
          detail = undefined;
        }
        try {
          effect = fault?.measured?.();
        } catch {
          effect = undefined;
        }
        // Stamped when the undo has taken effect: stop() resolves only then.
        this.onEvent({ t: undoneAt ?? this.clock(), type: 'fault-stop', fault: spec.name, kind: spec.kind, offeredRate, requestedAt, ...(detail ? { detail } : {}), ...(effect ? { effect } : {}) });
      }
      return error;
    })();
    return slot.stopping;
  }

  /** Names of the faults active now. */
  active(): string[] {
    return this.slots.filter((s) => s.phase === 'active' || s.phase === 'starting').map((s) => s.spec.name);
  }

  /**
   * Stops every started fault (each undo with a timeout, default 10 s), even
   * those whose start failed half-way; returns what could not be undone. No
   * fault starts after this is called.
   */
  async undoAll(opts: { timeoutMs?: number } = {}): Promise<{ failed: { fault: string; error: string }[] }> {
    this.closed = true;
    const timeoutMs = opts.timeoutMs ?? this.undoTimeoutMs;
    const results = await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.phase === 'pending') return undefined;
        if (slot.phase === 'starting') {
          // Let a start in flight finish (bounded) so its undo does not race it; then undo regardless.
          await withTimeout(slot.starting!, timeoutMs, 'start').catch(() => {});
          if (slot.phase === 'starting') slot.phase = 'active';
        }
        const error = await this.stop(slot, this.lastRate, true, timeoutMs);
        return error === undefined ? undefined : { fault: slot.spec.name, error };
      }),
    );
    return { failed: results.filter((r): r is { fault: string; error: string } => r !== undefined) };
  }
}
