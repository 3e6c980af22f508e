/**
 * The HdrHistogram interval log format (version 1.3), as HdrHistogram's own
 * tools (HistogramLogProcessor, HdrHistogram's plotter) read it: one line per
 * window with the corrected latency histogram of all requests, and one tagged
 * line per request name (`Tag=checkout,...`). Values are microseconds, so the
 * Interval_Max column is in milliseconds (the writer divides by 1000); pass
 * `-outputValueUnitRatio 1000` to HistogramLogProcessor for milliseconds.
 */
import * as hdr from 'hdr-histogram-js';
import type { Result } from '../result.ts';
import { decode } from '../metrics/histogram.ts';
import type { Reporter } from './reporter.ts';
import { runStartOf } from './clauses.ts';

/** Tags may not hold commas or whitespace. */
export const hdrTag = (name: string) => name.replace(/[\s,]+/g, '_');

export function hdrLog(r: Result): string {
  let out = '';
  const w = new hdr.HistogramLogWriter((s) => (out += s));
  const base = runStartOf(r);
  w.outputComment(`[Logged with faultline ${r.meta.faultline}: ${r.meta.scenario ?? r.meta.target}]`);
  w.outputLogFormatVersion();
  // Written by hand: the library's outputStartTime adds a blank line some readers reject.
  const sec = (base / 1000).toFixed(3);
  w.outputComment(`[StartTime: ${sec} (seconds since epoch), ${new Date(base).toISOString()}]`);
  w.outputComment(`[BaseTime: ${sec} (seconds since epoch)]`);
  w.outputComment('[Values in microseconds: latency from intended send time (coordinated-omission corrected); tags are request names]');
  w.outputLegend();
  for (const win of r.timeline.windows) {
    const start = (win.start - base) / 1000;
    const end = (win.end - base) / 1000;
    const lines: [string | undefined, string][] = [[undefined, win.overall.latency], ...Object.entries(win.byName).map(([n, s]) => [n, s.latency] as [string, string])];
    for (const [name, enc] of lines) {
      const h = decode(enc);
      if (name !== undefined) h.tag = hdrTag(name);
      w.outputIntervalHistogram(h, start, end, 1000);
    }
  }
  return out;
}

export const hdrLogReporter: Reporter = { name: 'hdr-log', describe: 'write latency as an HdrHistogram interval log', render: hdrLog };
