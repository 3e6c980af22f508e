/**
 * The HTML report: one self-contained file (uPlot and its CSS inlined, the
 * data embedded as JSON; nothing is fetched when it is viewed) with charts of
 * offered vs achieved rate, p50/p99 against the hypothesis thresholds, error
 * rate — each with fault intervals shaded and labelled, stage boundaries and
 * the breaking point marked — a latency percentile spectrum per stage (the
 * HdrHistogram "percentile distribution" plot, log-scaled x), then the tables.
 *
 * Every string that came from a server or a scenario is escaped: HTML text
 * through `esc`, embedded data through `jsonForScript`; the page's script only
 * ever sets textContent or draws on a canvas.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';
import type { Result } from '../result.ts';
import type { StageResult } from '../timeline.ts';
import type { Histogram } from 'hdr-histogram-js';
import { mergeEncoded, percentileMs, view } from '../metrics/histogram.ts';
import { isLatency } from '../hypothesis/parse.ts';
import type { Reporter } from './reporter.ts';
import { breachText, brokeIt, verdictSentence, impactText, recoveryText } from './terminal.ts';
import { runStartOf } from './clauses.ts';
import { int, ms, pct, rate } from './format.ts';
import { EXIT } from '../errors.ts';
import { dominantText, windowPhases } from '../metrics/phases.ts';

/** Escapes text for HTML content and attribute values. */
export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that is safe inside a <script> element: no "</script>", no "<!--", no line separators. */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

let uplotAssets: { js: string; css: string } | undefined;
function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const req = createRequire(import.meta.url);
    const dir = req.resolve('uplot/package.json').replace(/package\.json$/, 'dist/');
    uplotAssets = { js: readFileSync(dir + 'uPlot.iife.min.js', 'utf8'), css: readFileSync(dir + 'uPlot.min.css', 'utf8') };
  }
  return uplotAssets;
}

/**
 * Percentiles for the spectrum, as HdrHistogram's outputPercentileDistribution
 * picks them: `ticks` points per halving of the remaining tail, up to the last
 * percentile `count` samples can tell apart.
 */
export function spectrumPercentiles(maxCount: number, ticks = 5): number[] {
  const out: number[] = [];
  const limit = Math.max(2, maxCount);
  for (let half = 0; half < 40; half++) {
    for (let i = 0; i < ticks; i++) {
      const tail = Math.pow(0.5, half + i / ticks);
      if (1 / tail > limit) return [...out, 100 * (1 - 1 / limit)];
      out.push(100 * (1 - tail));
    }
  }
  return out;
}

/** What the page carries for its charts (#faultline-data), read by html/charts.ts. */
export interface ChartData {
  t: number[];
  offered: number[];
  achieved: number[];
  p50: (number | null)[];
  p99: (number | null)[];
  errorRate: (number | null)[];
  names: string[];
  nameP99: (number | null)[][];
  faults: { name: string; kind: string; start: number; end: number; held: boolean }[];
  stages: { index: number; label: string; start: number }[];
  breakingPoint: { t: number; label: string } | null;
  latencyThresholds: { label: string; value: number }[];
  errorThresholds: { label: string; value: number }[];
  spectrum: { x: number[]; pct: number[]; series: { label: string; values: (number | null)[] }[] };
  duration: number;
}

function chartData(r: Result): ChartData {
  const t0 = runStartOf(r);
  const W = r.timeline.windows;
  const s = (v: number) => Math.round(((v - t0) / 1000) * 1000) / 1000;
  const names = [...new Set(W.flatMap((w) => Object.keys(w.byName)))].sort();
  const lat = (enc: string | undefined, p: number) => {
    if (!enc) return null;
    const h = view(enc);
    return h.totalCount > 0 ? percentileMs(h, p) : null;
  };
  const clauses = r.hypothesis?.clauses ?? [];
  const bp = r.breakingPoint;
  const bpWindow = bp ? W[bp.firstFailing.window] : undefined;

  // The spectrum: each stage's windows merged exactly, percentiles on a shared x.
  const hists: { stage: StageResult; h: Histogram }[] = r.stages.map((st) => ({ stage: st, h: mergeEncoded(W.filter((w) => w.stage === st.index).map((w) => w.overall.latency)) }));
  const maxCount = Math.max(2, ...hists.map((x) => x.h.totalCount));
  const pcts = spectrumPercentiles(maxCount);
  const spectrum = {
    pct: pcts,
    x: pcts.map((p) => 1 / (1 - p / 100)),
    series: hists
      .filter((x) => x.h.totalCount > 0)
      .map(({ stage, h }) => ({
        label: `${stage.index}: ${stage.label}`,
        // Past what a stage's own count can tell apart, its line stops (its max is its last point).
        values: pcts.map((p) => (1 / (1 - p / 100) <= Math.max(2, h.totalCount) ? percentileMs(h, p) : null)),
      })),
  };
  return {
    t: W.map((w) => s((w.start + w.end) / 2)),
    offered: W.map((w) => w.offeredRate),
    achieved: W.map((w) => w.achievedRate),
    p50: W.map((w) => lat(w.overall.latency, 50)),
    p99: W.map((w) => lat(w.overall.latency, 99)),
    errorRate: W.map((w) => (w.overall.requests > 0 ? (100 * w.overall.errors) / w.overall.requests : null)),
    names: names.length > 1 ? names : [],
    nameP99: names.length > 1 ? names.map((n) => W.map((w) => (w.byName[n] && w.byName[n].requests > 0 ? lat(w.byName[n].latency, 99) : null))) : [],
    faults: (r.faults ?? []).map((f) => ({ name: f.fault, kind: f.kind, start: s(f.start), end: s(f.end), held: !brokeIt(f) })),
    stages: r.stages.map((st) => ({ index: st.index, label: st.label, start: s(st.start) })),
    breakingPoint: bp && bpWindow ? { t: s(bpWindow.start), label: `breaking point ${rate(bp.firstFailing.rate)} req/s` } : null,
    latencyThresholds: clauses.filter((c) => isLatency(c.metric)).map((c) => ({ label: c.text, value: c.threshold })),
    errorThresholds: clauses.filter((c) => c.metric.type === 'errors').map((c) => ({ label: c.text, value: c.threshold * 100 })),
    spectrum,
    duration: s(runEndFallback(r)),
  };
}

function runEndFallback(r: Result): number {
  const e = [...r.timeline.events].reverse().find((x) => x.type === 'run-end');
  return e?.t ?? r.timeline.windows[r.timeline.windows.length - 1]?.end ?? runStartOf(r);
}

function tableHtml(head: string[], rows: string[][], numeric: boolean[] = [], cls = ''): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  // Cells are escaped by the caller (some carry markup of our own).
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

const secs = (v: number | undefined) => (v === undefined ? '—' : `${(v / 1000).toFixed(2)} s`);

function body(r: Result): string {
  const m = r.meta;
  const parts: string[] = [];
  const status = r.outcome.exitCode === EXIT.held ? 'held' : r.outcome.exitCode === EXIT.broke ? 'broke' : 'other';
  parts.push(`<header><h1>faultline report — ${esc(m.scenario ?? 'run')}</h1>`);
  parts.push(
    `<p class="meta">${esc(m.target)} · ${esc(m.model === 'closed' ? 'closed model (fixed concurrency)' : 'open model, coordinated-omission corrected')} · ${esc(m.workers)} worker(s) · ${esc(m.connections)} connections · node ${esc(m.node)} · ${esc(m.startedAt)} · ${esc(((m.durationMs ?? 0) / 1000).toFixed(1))} s</p>`,
  );
  if (m.command) parts.push(`<p class="meta"><code>faultline ${esc(m.command)}</code></p>`);
  parts.push(`<p class="verdict ${status}" id="verdict">${esc(verdictSentence(r))}</p>`);
  parts.push(`<p class="outcome">exit ${esc(r.outcome.exitCode)}: ${esc(r.outcome.reason)}</p>`);
  const cap = r.capacity;
  if (cap?.highestHeld !== undefined && cap.headroom !== undefined) parts.push(`<p>Capacity: holds to ${esc(rate(cap.highestHeld))} req/s, ${esc(cap.headroom.toFixed(2))}× expected peak.</p>`);
  if (cap?.uslNote) parts.push(`<p class="dim">Scalability: ${esc(cap.uslNote)}.</p>`);
  parts.push('</header>');

  parts.push('<section class="charts">');
  parts.push('<h2>Load</h2><div class="chart" id="chart-rate" data-title="offered vs achieved rate (req/s)"></div>');
  parts.push('<h2>Latency</h2><div class="chart" id="chart-latency" data-title="latency p50 / p99 (ms)"></div>');
  parts.push('<h2>Errors</h2><div class="chart" id="chart-errors" data-title="error rate (%)"></div>');
  parts.push('<h2>Latency percentile spectrum by stage</h2><div class="chart" id="chart-spectrum" data-title="latency by percentile (ms)"></div>');
  parts.push('</section>');

  // Hypothesis clauses.
  const cv = r.clauses ?? [];
  if (cv.length) {
    parts.push('<h2>Hypothesis</h2>');
    parts.push(
      tableHtml(
        ['clause', 'verdict', 'why', 'first failing level', 'measured', 'last passing level'],
        cv.map((v) => {
          const bp = v.breakingPoint;
          return [
            `<code>${esc(v.clause)}</code>`,
            v.outcome === 'fail' ? '<span class="bad">fail</span>' : v.outcome === 'inconclusive' ? '<span class="warn">inconclusive</span>' : '<span class="good">pass</span>',
            esc(v.reason),
            bp ? esc(`${rate(bp.firstFailing.rate)} req/s`) : '—',
            bp ? esc(breachText(bp.clause, bp.value)) : '—',
            bp?.lastPassing ? esc(`${rate(bp.lastPassing.rate)} req/s`) : v.heldTo !== undefined && !bp ? esc(`held to ${rate(v.heldTo)} req/s`) : '—',
          ];
        }),
        [false, false, false, true, false, true],
      ),
    );
  }

  // Stages.
  parts.push('<h2>Stages</h2>');
  parts.push(
    tableHtml(
      ['#', 'stage', 'offered/s', 'achieved/s', 'requests', 'errors', 'p50', 'p90', 'p99', 'p99.9', 'max', 'svc p99', ''],
      r.stages.map((s) => [
        esc(s.index),
        esc(s.label),
        esc(s.model === 'open' ? (s.rateFrom !== undefined ? `${rate(s.rateFrom)}→${rate(s.rateTo!)}` : rate(s.offeredRate)) : `(${s.concurrency} conc.)`),
        esc(rate(s.achievedRate)),
        esc(int(s.requests)),
        s.errorCount > 0 ? `<span class="bad">${esc(pct(s.errorRate))}</span> ${esc(Object.entries(s.errors).filter(([k, n]) => n && k !== 'http_4xx').map(([k, n]) => `${k} ${int(n!)}`).join(', '))}` : '0',
        esc(ms(s.latency.p50)),
        esc(ms(s.latency.p90)),
        esc(ms(s.latency.p99)),
        esc(ms(s.latency.p999)),
        esc(ms(s.latency.max)),
        esc(ms(s.serviceTime.p99)),
        s.generatorLimited ? '<span class="warn">generator-limited</span>' : '',
      ]),
      [true, false, true, true, true, false, true, true, true, true, true, true, false],
    ),
  );

  // Faults.
  const faults = r.faults ?? [];
  if (faults.length) {
    parts.push('<h2>Faults</h2>');
    parts.push(
      tableHtml(
        ['fault', 'when', 'load at start', 'measured effect', 'impact', 'time to impact', 'time to recovery', 'held?', 'blast radius'],
        faults.map((f) => [
          `${esc(f.fault)} <span class="dim">(${esc(f.kind)}${f.target ? ` → ${esc(f.target)}` : ''})</span>`,
          esc(`${secs(f.startElapsedMs)} – ${f.activeAtEnd ? 'end' : secs(f.endElapsedMs)}`),
          esc(`${rate(f.offeredRate)} req/s`),
          !f.effect ? '<span class="dim">—</span>' : f.effect.noEffect ? `<span class="warn">NO EFFECT: ${esc(f.effect.summary)}</span>` : esc(f.effect.summary),
          f.held ? esc(impactText(f)) : `<span class="bad">${esc(impactText(f))}</span>`,
          esc(f.timeToImpactMs === undefined ? '—' : secs(f.timeToImpactMs)),
          f.recovery === 'not-recovered' ? `<span class="bad">${esc(recoveryText(f))}</span>` : esc(recoveryText(f)),
          f.held ? '<span class="good">yes</span>' : brokeIt(f) ? '<span class="bad">NO</span>' : '<span class="warn">no (load)</span>',
          [...f.blastRadius.affected.map((n) => `<span class="bad">${esc(n)} ✗</span>`), ...f.blastRadius.unaffected.map((n) => `<span class="good">${esc(n)} ✓</span>`), ...f.blastRadius.unknown.map((n) => `<span class="dim">${esc(n)} ?</span>`)].join(' '),
        ]),
        [false, false, true, false, false, true, false, false, false],
      ),
    );
    // Before / during / after, per request name.
    parts.push('<details><summary>Metrics before, during and after each fault</summary>');
    for (const f of faults) {
      const rows: string[][] = [];
      const add = (name: string, ph: (typeof f)['metrics']) => {
        for (const k of ['before', 'during', 'after'] as const) {
          const x = ph[k];
          rows.push([esc(name), k, x ? esc(ms(x.p50)) : '—', x ? esc(ms(x.p99)) : '—', x ? esc(pct(x.errorRate)) : '—', x ? esc(rate(x.achievedRate)) : '—', x ? esc(int(x.requests)) : '—']);
        }
      };
      add('all requests', f.metrics);
      for (const [n, ph] of Object.entries(f.byName)) add(n, ph);
      parts.push(`<h3>${esc(f.fault)}</h3>`);
      parts.push(tableHtml(['request', 'when', 'p50', 'p99', 'errors', 'achieved/s', 'requests'], rows, [false, false, true, true, true, true, true]));
    }
    parts.push('</details>');
  }

  // What the dependencies saw: amplification around each fault.
  const deps = r.dependencies ?? [];
  if (deps.length) {
    const x = (v: number | null) => (v === null ? '—' : `${v > 0 && v < 0.1 ? v.toPrecision(2) : v.toFixed(2)}×`);
    parts.push('<h2>What the dependencies saw</h2><p class="dim">Amplification: calls the system made to a dependency per request it received.</p>');
    parts.push(
      tableHtml(
        ['dependency', 'fault', 'before', 'during', 'after', 'peak'],
        deps.flatMap((d) => [
          [esc(d.dependency), '<span class="dim">whole run</span>', '', esc(x(d.overall.ratio)), '', ''],
          ...d.byFault.map((f) => [esc(d.dependency), esc(f.fault), esc(x(f.before.ratio)), esc(x(f.during.ratio)), esc(x(f.after.ratio)), esc(f.peak ? x(f.peak.ratio) : '—')]),
        ]),
        [false, false, true, true, true, true],
      ),
    );
  }
  if (r.underFaults) {
    const b = r.underFaults.breakingPoint;
    parts.push(`<p>Under the background fault schedule (${esc(r.underFaults.series.join(', '))}): ${b ? `broke at ${esc(rate(b.firstFailing.rate))} req/s` : 'did not break'}.</p>`);
  }

  // Breaches.
  const br = r.breaches ?? [];
  if (br.length) {
    const t0 = runStartOf(r);
    parts.push('<h2>Breaches</h2>');
    parts.push(
      tableHtml(
        ['clause', 'began', 'load', 'windows', 'worst', 'kind', 'time went to', 'cause'],
        br.map((b) => [
          `<code>${esc(b.clause)}</code>`,
          esc(secs(b.start - t0)),
          esc(`${rate(b.offeredRate)} req/s`),
          esc(b.windows),
          esc(breachText(b.clause, b.worstValue)),
          b.sustained ? 'breach' : '<span class="dim">blip</span>',
          esc(dominantText(windowPhases(r.timeline, b.startWindow, b.endWindow, b.scope)) || '—'),
          esc(b.attribution === 'load' ? 'load' : `${b.attribution === 'both' ? 'fault + load' : 'fault'}: ${b.faults.join(', ')}`),
        ]),
        [false, true, true, true, false, false, false, false],
      ),
    );
  }

  // Generator warnings and error examples (server text: escaped).
  const warnings = r.stages.filter((s) => s.generatorLimited || s.generatorReason);
  if (warnings.length) {
    parts.push('<h2>Generator</h2><ul>');
    for (const s of warnings) parts.push(`<li class="warn">stage ${esc(s.index)} (${esc(s.label)}): ${esc(s.generatorReason)}</li>`);
    parts.push('</ul>');
  }
  const examples = new Map<string, string>();
  for (const s of r.stages) for (const [k, v] of Object.entries(s.examples ?? {})) if (v && !examples.has(k)) examples.set(k, v);
  if (examples.size) {
    parts.push('<h2>First error of each kind</h2><ul class="examples">');
    for (const [k, v] of examples) parts.push(`<li><b>${esc(k)}</b>: <code>${esc(v)}</code></li>`);
    parts.push('</ul>');
  }
  const notes = r.timeline.events.filter((e) => e.type === 'fault-error' || e.type === 'abort' || e.type === 'note');
  if (notes.length) {
    parts.push('<h2>Events</h2><ul>');
    const t0 = runStartOf(r);
    for (const e of notes) {
      const text = e.type === 'fault-error' ? `fault "${e.fault}": ${e.message}` : e.type === 'abort' ? `aborted: ${e.reason}` : e.type === 'note' ? e.message : '';
      parts.push(`<li>${esc(secs(e.t - t0))}: ${esc(text)}</li>`);
    }
    parts.push('</ul>');
  }
  return parts.join('\n');
}

const CSS = `
:root { --fg:#1d2430; --dim:#6b7280; --bad:#c0262d; --good:#1a7f37; --warn:#a15c00; --line:#e5e7eb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0 auto; padding: 16px 24px 48px; max-width: 1200px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; } h3 { font-size: 14px; margin: 16px 0 6px; }
.meta, .dim { color: var(--dim); margin: 2px 0; } code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
.verdict { font-size: 17px; font-weight: 600; padding: 10px 14px; border-radius: 6px; margin: 12px 0 4px; }
.verdict.held { background:#e8f5ec; color: var(--good); } .verdict.broke { background:#fdecec; color: var(--bad); } .verdict.other { background:#fff4e0; color: var(--warn); }
.outcome { margin: 4px 0; color: var(--dim); }
.bad { color: var(--bad); font-weight: 600; } .good { color: var(--good); } .warn { color: var(--warn); }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f6f7f9; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 0 0 8px; min-height: 300px; } .chart .u-title { font-size: 13px; font-weight: 600; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--dim); }
.examples li { margin: 4px 0; }
`;

/** The page's own script: draws the charts from the embedded data. Sets no HTML from data. */
let chartsScript: string | undefined;

/**
 * The charts' browser code (html/charts.ts, typechecked with the rest),
 * bundled by esbuild the first time a report is rendered in this process.
 */
function chartsJs(): string {
  chartsScript ??= buildSync({
    entryPoints: [fileURLToPath(new URL('./html/charts.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    charset: 'utf8',
    logLevel: 'silent',
  }).outputFiles[0].text;
  return chartsScript;
}

export function htmlReport(r: Result): string {
  const { js, css } = uplot();
  const data = chartData(r);
  const title = `faultline — ${r.meta.scenario ?? r.meta.target}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${css}</style>
<style>${CSS}</style>
</head>
<body>
${body(r)}
<script id="faultline-data" type="application/json">${jsonForScript(data)}</script>
<script>${js.replace(/<\/(script)/gi, '<\\/$1')}</script>
<script>${chartsJs().replace(/<\/(script)/gi, '<\\/$1')}</script>
</body>
</html>
`;
}

export const html: Reporter = { name: 'html', describe: 'write a self-contained HTML report', render: htmlReport };

