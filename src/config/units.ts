/**
 * Units are parsed once, at the edge: durations ("250ms", "10s", "2m", "1h"; a string
 * without a unit is refused with a suggestion; a number from code is milliseconds), rates ("500", "500rps", "500/s", "1.5x" of
 * expectedPeak) and percentages ("1%", "0.5%", or a fraction 0..1 as a number).
 * Everything inside faultline is milliseconds, req/s and fractions.
 */
import { z } from 'zod';

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)?\s*$/;
const UNIT_MS: Record<string, number> = { us: 0.001, 'µs': 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds from "250ms" / "10s" / "2m" / number (ms, as code passes them). A string
 * needs its unit ("10" could be 10 ms or 10 s): undefined, like anything unparsable;
 * `durationHint` says what to write instead.
 */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = DURATION.exec(v);
  if (!m) return undefined;
  if (m[2] === undefined && Number(m[1]) !== 0) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
}

/** Why a duration string did not parse, with a suggestion: `"10" has no unit: write "10s" (or "10ms")`. */
export function durationHint(v: unknown): string {
  const bare = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*$/.exec(v) : null;
  if (bare) return `${JSON.stringify(v)} has no unit: write "${bare[1]}s" for seconds or "${bare[1]}ms" for milliseconds`;
  return `expected a duration like "250ms", "10s" or "2m", got ${JSON.stringify(v)}`;
}

/** A rate as written: absolute req/s, or a multiple of the scenario's expectedPeak. */
export type RateSpec = { rps: number } | { x: number };

const RATE = /^\s*(\d+(?:\.\d+)?)\s*(rps|\/s|req\/s|x|×)?\s*$/i;

export function parseRate(v: unknown): RateSpec | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? { rps: v } : undefined;
  if (typeof v !== 'string') return undefined;
  const m = RATE.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  return unit === 'x' || unit === '×' ? { x: n } : { rps: n };
}

/** Resolve a RateSpec against expectedPeak; undefined when a multiple is used without a peak. */
export function resolveRate(r: RateSpec, expectedPeak: number | undefined): number | undefined {
  if ('rps' in r) return r.rps;
  return expectedPeak === undefined ? undefined : r.x * expectedPeak;
}

/** A fraction 0..1 from "1%", "0.5 %" or a number (numbers <= 1 are fractions, > 1 are percent). */
export function parsePercent(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    return v <= 1 ? v : v / 100;
  }
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
  if (m) return Number(m[1]) / 100;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
}

/** Bytes from "64KB", "1MB", "512", number. */
export function parseBytes(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(v);
  if (!m) return undefined;
  const mult: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1e6, mib: 1 << 20, gb: 1e9, gib: 1 << 30 };
  return Number(m[1]) * mult[(m[2] ?? 'b').toLowerCase()];
}

// zod helpers: each validates and converts, with the message users see after the path.
/**
 * The longest duration faultline accepts anywhere: 7 days. Longer is a typo, not a soak test
 * (and past 24.8 days Node's timers overflow and fire at once).
 */
export const MAX_DURATION_MS = 7 * 24 * 3_600_000;

export const zDuration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: durationHint(v) });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({ code: 'custom', message: `expected at most 168h (7 days), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

export const zPositiveDuration = zDuration.refine((ms) => ms > 0, { message: 'expected a duration greater than zero' });

export const zRate = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const r = parseRate(v);
  if (r === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a rate like "3x" or "1500", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  const n = 'rps' in r ? r.rps : r.x;
  if (!(n > 0)) {
    ctx.addIssue({ code: 'custom', message: `expected a rate greater than zero, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return r;
});

export const zPercent = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const p = parsePercent(v);
  if (p === undefined || p > 1) {
    ctx.addIssue({ code: 'custom', message: `expected a percentage like "1%" or a fraction 0..1, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return p;
});

export const zBytes = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const b = parseBytes(v);
  if (b === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a size like "64KB" or a number of bytes, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return b;
});

/** Loopback only: faultline never sends load or faults anywhere else. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** "127.0.0.1:4000" / "localhost:4000" / "[::1]:4000" / ":4000" → host and port. */
export function parseHostPort(v: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/**
 * A loopback http(s) URL (a Toxiproxy API, a probe's health URL): `example`
 * shows the shape when it does not parse, `why` says what refuses another host.
 */
export function zLoopbackHttpUrl(example: string, why: string) {
  return z.string().superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected a URL like "${example}", got ${JSON.stringify(v)}` });
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `expected an http:// URL, got ${JSON.stringify(v)}` });
    else if (!isLoopbackHost(u.hostname)) ctx.addIssue({ code: 'custom', message: `${u.host} is not a loopback address (${why})` });
  });
}
