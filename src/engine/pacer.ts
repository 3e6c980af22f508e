/**
 * The pacer (the "when", Vegeta's pacer.go): which arrivals of an open-model
 * stage are due, and when each was meant to leave. Arrivals are a formula of
 * time (schedule.ts), so a backlog of late arrivals costs no memory.
 */
import { arrivalsBefore, arrivalTime } from './schedule.ts';

export class Pacer {
  readonly rateFrom: number;
  readonly rateTo: number;
  readonly durationMs: number;
  readonly phase: number;
  /** Arrivals in the whole stage. */
  readonly total: number;
  /** The next arrival to send (those before it were sent or given up). */
  next = 0;

  constructor(rateFrom: number, rateTo: number, durationMs: number, phase: number) {
    this.rateFrom = rateFrom;
    this.rateTo = rateTo;
    this.durationMs = durationMs;
    this.phase = phase;
    this.total = arrivalsBefore(durationMs, rateFrom, rateTo, durationMs, phase);
  }

  /** Arrivals due by `elapsedMs` into the stage (clamped to the stage). */
  dueBy(elapsedMs: number): number {
    return arrivalsBefore(elapsedMs < this.durationMs ? elapsedMs : this.durationMs, this.rateFrom, this.rateTo, this.durationMs, this.phase);
  }

  /** When arrival k was meant to leave, ms from the stage start. */
  at(k: number): number {
    return arrivalTime(k, this.rateFrom, this.rateTo, this.durationMs, this.phase);
  }
}
