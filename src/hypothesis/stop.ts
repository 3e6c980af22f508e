/**
 * Stop conditions (`stop: ["errors > 50% for 5s"]`): met when consecutive
 * windows meet the clause for its `for` time (at least one window). Probe
 * clauses act on each poll as it arrives (the coordinator's onProbe), not here.
 */
import type { Window } from '../timeline.ts';
import { compare, type Clause } from './parse.ts';
import { measure } from './evaluate.ts';

export class StopConditions {
  private readonly clauses: readonly Clause[];
  private readonly windowMs: number;
  private readonly runs: number[];
  constructor(clauses: readonly Clause[], windowMs: number) {
    this.clauses = clauses;
    this.windowMs = windowMs;
    this.runs = clauses.map(() => 0);
  }

  /** Counts this window; the reason to abort when a condition is met, else undefined. */
  check(w: Window): string | undefined {
    let reason: string | undefined;
    this.clauses.forEach((c, i) => {
      if (c.metric.type === 'probe') return;
      const { value, samples } = measure(c, w);
      const met = samples > 0 && compare(value, c.op, c.threshold);
      this.runs[i] = met ? this.runs[i] + 1 : 0;
      const need = Math.max(1, Math.ceil((c.forMs ?? 0) / this.windowMs));
      if (met && this.runs[i] >= need) reason ??= `stop condition "${c.text}" met (${fmtValue(c, value)})`;
    });
    return reason;
  }
}

function fmtValue(c: Clause, v: number): string {
  return c.metric.type === 'errors' || c.metric.type === 'achieved' ? `${(v * 100).toFixed(1)}%` : `${v.toFixed(1)} ms`;
}
