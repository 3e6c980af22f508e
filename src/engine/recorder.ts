/**
 * Recording (Vegeta's metrics.go): what one request name saw in the current
 * window — HDR histograms of latency, service time, waiting requests' ages and
 * the phases, counters by error kind with a first example each. `snapshot()`
 * hands the window over (encoded) and starts the next one.
 */
import type { Histogram } from 'hdr-histogram-js';
import { newHistogram, encode, clampUs } from '../metrics/histogram.ts';
import { ERROR_KINDS, PHASES, type ErrorKind, type Phases } from '../timeline.ts';
import type { WireStats } from './messages.ts';

export const KIND_INDEX: Record<ErrorKind, number> = Object.fromEntries(ERROR_KINDS.map((k, i) => [k, i])) as Record<ErrorKind, number>;

/** Per request name, per window. */
export class Recorder {
  readonly name: string;
  latency: Histogram = newHistogram();
  service: Histogram = newHistogram();
  /** Ages of this name's requests in flight at the window's end (see Stats.pending). */
  pending: Histogram = newHistogram();
  wait: Histogram = newHistogram();
  connect: Histogram = newHistogram();
  ttfb: Histogram = newHistogram();
  transfer: Histogram = newHistogram();
  requests = 0;
  errors = 0;
  /** Attempts sent again (opt-in retries). */
  retries = 0;
  byKind = new Float64Array(ERROR_KINDS.length);
  examples: (string | undefined)[] = new Array(ERROR_KINDS.length);
  constructor(name: string) {
    this.name = name;
  }

  /** One failed request (or one never sent), counted once, with its latency. */
  error(kind: ErrorKind, message: string, latencyMs: number, counts = true): void {
    this.latency.recordValue(clampUs(latencyMs * 1000));
    this.requests++;
    const i = KIND_INDEX[kind];
    this.byKind[i]++;
    if (counts) this.errors++;
    if (this.examples[i] === undefined) this.examples[i] = message.slice(0, 300);
  }

  /** A failed attempt that is sent again: an error of its kind, not yet the request's outcome; the retry is counted apart. */
  retried(kind: ErrorKind, message: string): void {
    const i = KIND_INDEX[kind];
    this.byKind[i]++;
    this.retries++;
    if (this.examples[i] === undefined) this.examples[i] = message.slice(0, 300);
  }

  snapshot(): WireStats {
    const byKind: Partial<Record<ErrorKind, number>> = {};
    const examples: Partial<Record<ErrorKind, string>> = {};
    for (let i = 0; i < ERROR_KINDS.length; i++) {
      if (this.byKind[i] > 0) {
        byKind[ERROR_KINDS[i]] = this.byKind[i];
        if (this.examples[i] !== undefined) examples[ERROR_KINDS[i]] = this.examples[i];
      }
    }
    const s: WireStats = {
      requests: this.requests,
      errors: this.errors,
      byKind,
      examples,
      latency: encode(this.latency),
      service: encode(this.service),
    };
    if (this.pending.totalCount > 0) {
      s.pending = encode(this.pending);
      this.pending.reset();
    }
    let phases: Phases | undefined;
    for (const p of PHASES) {
      const h = this[p];
      if (h.totalCount === 0) continue;
      (phases ??= {})[p] = encode(h);
      h.reset();
    }
    if (phases) s.phases = phases;
    if (this.retries > 0) {
      s.retries = this.retries;
      this.retries = 0;
    }
    this.latency.reset();
    this.service.reset();
    this.requests = 0;
    this.errors = 0;
    this.byKind.fill(0);
    // Examples are kept only for the first window that saw a kind, so the result holds a first example each.
    return s;
  }
}
