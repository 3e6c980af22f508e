/**
 * HDR histograms as faultline uses them: microsecond values from 1 µs to 1 h at
 * 3 significant digits. Workers record into WebAssembly histograms (≈30 ns a
 * value); histograms cross threads and files encoded (compressed base64), as
 * autocannon and HdrHistogram's own logs do.
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary } from '../timeline.ts';

/** Highest trackable value, µs (1 hour). Larger values are clamped, never dropped. */
export const MAX_US = 3_600_000_000;

let wasmReady: Promise<void> | undefined;
let wasm = false;

/** Loads the WebAssembly build once per thread; falls back to the JS build if it cannot. */
export function initHistograms(): Promise<void> {
  wasmReady ??= hdr.initWebAssembly().then(
    () => {
      wasm = true;
    },
    () => {
      wasm = false;
    },
  );
  return wasmReady;
}

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: wasm,
  });
}

export function clampUs(us: number): number {
  return us < 1 ? 1 : us > MAX_US ? MAX_US : Math.round(us);
}

export function encode(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Decodes into a JS histogram (no WebAssembly memory to free on the coordinator side). */
export function decode(s: string): Histogram {
  return hdr.decodeFromCompressedBase64(s, 32, false);
}

/**
 * Decoded histograms are cached by their encoding (the same window is read by
 * the live view, the verdict and the stage summary); the cache is small and
 * the histograms in it are never mutated.
 */
const cache = new Map<string, Histogram>();
const CACHE_MAX = 64;

function decodeCached(s: string): Histogram {
  let h = cache.get(s);
  if (!h) {
    h = decode(s);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(s, h);
  }
  return h;
}

/** A read-only decoded view of one encoded histogram (do not mutate it). */
export function view(s: string): Histogram {
  return decodeCached(s);
}

/** Exact merge of encoded histograms into a new JS histogram. */
export function mergeEncoded(list: readonly string[]): Histogram {
  const out = hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  for (const s of list) {
    if (!s) continue;
    const h = decodeCached(s);
    if (h.totalCount > 0) out.add(h);
  }
  return out;
}

const us2ms = (v: number) => v / 1000;

/** Percentiles in ms; all zeros for an empty histogram (count tells them apart). */
export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, min: 0 };
  return {
    p50: us2ms(h.getValueAtPercentile(50)),
    p90: us2ms(h.getValueAtPercentile(90)),
    p99: us2ms(h.getValueAtPercentile(99)),
    p999: us2ms(h.getValueAtPercentile(99.9)),
    max: us2ms(h.maxValue),
    mean: us2ms(h.mean),
    min: us2ms(h.minNonZeroValue),
  };
}

/** Percentile (0..100) in ms. */
export function percentileMs(h: Histogram, p: number): number {
  return h.totalCount === 0 ? 0 : us2ms(h.getValueAtPercentile(p));
}
