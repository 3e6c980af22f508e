/// <reference lib="dom" />
/**
 * The HTML report's charts: browser code, typechecked with the rest and
 * bundled into the page when the report is rendered (html.ts, esbuild). It
 * reads the chart data the page carries (#faultline-data) and draws with uPlot,
 * which the page inlines as a global. It imports types only.
 */
import type UPlot from 'uplot';
import type { ChartData } from '../html.ts';

declare const uPlot: typeof UPlot;

type Threshold = { label: string; value: number };

const D = JSON.parse(document.getElementById('faultline-data')!.textContent!) as ChartData;
const FAULT = 'rgba(200, 40, 160, 0.12)';
const FAULT_EDGE = 'rgba(200, 40, 160, 0.6)';

function width(el: HTMLElement): number {
  return Math.max(480, Math.min(1150, (el.parentElement || document.body).clientWidth - 8));
}

/** Faults shaded and labelled, stage boundaries, the breaking point, threshold lines. */
function marks(thresholds: readonly Threshold[]): UPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const top = u.bbox.top;
          const h = u.bbox.height;
          const left = u.bbox.left;
          const w = u.bbox.width;
          const dpr = devicePixelRatio || 1;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, w, h);
          ctx.clip();
          ctx.font = 11 * dpr + 'px system-ui, sans-serif';
          ctx.textAlign = 'left';
          ctx.textBaseline = 'alphabetic';
          D.faults.forEach((f, i) => {
            const x0 = u.valToPos(f.start, 'x', true);
            const x1 = u.valToPos(f.end, 'x', true);
            ctx.fillStyle = FAULT;
            ctx.fillRect(x0, top, Math.max(1, x1 - x0), h);
            ctx.strokeStyle = FAULT_EDGE;
            ctx.lineWidth = dpr;
            ctx.setLineDash([]);
            ctx.beginPath();
            ctx.moveTo(x0, top);
            ctx.lineTo(x0, top + h);
            ctx.moveTo(x1, top);
            ctx.lineTo(x1, top + h);
            ctx.stroke();
            ctx.fillStyle = 'rgb(150, 20, 120)';
            ctx.fillText('⚡ ' + f.name + (f.held ? '' : ' ✗'), x0 + 4 * dpr, top + (14 + 13 * (i % 3)) * dpr);
          });
          ctx.strokeStyle = 'rgba(80, 90, 110, 0.45)';
          ctx.setLineDash([4 * dpr, 4 * dpr]);
          ctx.lineWidth = dpr;
          ctx.fillStyle = 'rgba(80, 90, 110, 0.9)';
          D.stages.forEach((s) => {
            const x = u.valToPos(s.start, 'x', true);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + h);
            ctx.stroke();
            ctx.fillText('S' + s.index, x + 3 * dpr, top + h - 4 * dpr);
          });
          if (D.breakingPoint) {
            const bx = u.valToPos(D.breakingPoint.t, 'x', true);
            ctx.strokeStyle = '#c0262d';
            ctx.setLineDash([]);
            ctx.lineWidth = 2 * dpr;
            ctx.beginPath();
            ctx.moveTo(bx, top);
            ctx.lineTo(bx, top + h);
            ctx.stroke();
            ctx.fillStyle = '#c0262d';
            ctx.textAlign = 'right';
            ctx.fillText(D.breakingPoint.label, bx - 4 * dpr, top + 14 * dpr);
            ctx.textAlign = 'left';
          }
          thresholds.forEach((t) => {
            const y = u.valToPos(t.value, 'y', true);
            if (!(y >= top && y <= top + h)) return;
            ctx.strokeStyle = '#c0262d';
            ctx.setLineDash([6 * dpr, 3 * dpr]);
            ctx.lineWidth = 1.5 * dpr;
            ctx.beginPath();
            ctx.moveTo(left, y);
            ctx.lineTo(left + w, y);
            ctx.stroke();
            ctx.fillStyle = '#c0262d';
            ctx.textAlign = 'right';
            ctx.fillText(t.label, left + w - 4 * dpr, y - 4 * dpr);
            ctx.textAlign = 'left';
          });
          ctx.restore();
        },
      ],
    },
  };
}

const palette = ['#2563eb', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#4b5563', '#b45309', '#059669', '#dc2626'];
const xAxis: UPlot.Axis = { label: 'seconds into the run', stroke: '#555', grid: { stroke: '#eee' } };
const xScale: UPlot.Scale = { time: false, range: (_u, _lo, hi) => [0, Math.max(hi, D.duration)] };

function chart(id: string, series: UPlot.Series[], data: UPlot.AlignedData, yLabel: string, thresholds: readonly Threshold[], yMax: number): void {
  const el = document.getElementById(id)!;
  new uPlot(
    {
      title: el.getAttribute('data-title') ?? undefined,
      width: width(el),
      height: 280,
      scales: { x: xScale, y: { range: (_u, _lo, hi) => [0, Math.max(hi, yMax || 0) * 1.08 || 1] } },
      axes: [xAxis, { label: yLabel, stroke: '#555', grid: { stroke: '#eee' }, size: 60 }],
      series: [{ label: 't (s)' } as UPlot.Series].concat(series),
      plugins: [marks(thresholds)],
    },
    data,
    el,
  );
}

chart(
  'chart-rate',
  [
    { label: 'offered', stroke: '#9ca3af', width: 2, dash: [6, 4] },
    { label: 'achieved', stroke: '#2563eb', width: 2 },
  ],
  [D.t, D.offered, D.achieved],
  'req/s',
  [],
  0,
);
const latSeries: UPlot.Series[] = [
  { label: 'p50', stroke: '#059669', width: 2 },
  { label: 'p99', stroke: '#d97706', width: 2 },
];
const latData: (number | null)[][] = [D.t, D.p50, D.p99];
D.names.forEach((n, i) => {
  latSeries.push({ label: n + ' p99', stroke: palette[i % palette.length], width: 1, dash: [3, 3] });
  latData.push(D.nameP99[i]);
});
const thrMax = D.latencyThresholds.reduce((m, t) => Math.max(m, t.value), 0);
chart('chart-latency', latSeries, latData as UPlot.AlignedData, 'ms', D.latencyThresholds, thrMax * 1.15);
const errMax = D.errorThresholds.reduce((m, t) => Math.max(m, t.value), 0);
chart('chart-errors', [{ label: 'error rate %', stroke: '#c0262d', width: 2, fill: 'rgba(192, 38, 45, 0.08)' }], [D.t, D.errorRate], '%', D.errorThresholds, Math.max(1, errMax * 1.2));

// The percentile spectrum: x = 1 / (1 − percentile), log-scaled, as HdrHistogram's plotter shows it.
const sp = D.spectrum;
const spEl = document.getElementById('chart-spectrum')!;
const spSeries: UPlot.Series[] = sp.series.map((s, i) => ({ label: s.label, stroke: palette[i % palette.length], width: 2, points: { show: false } }));
function pctLabel(v: number): string {
  const p = 100 * (1 - 1 / v);
  if (p <= 1e-9) return '0%';
  const d = Math.max(0, Math.ceil(-Math.log10(1 - p / 100) - 1e-9) - 2);
  return String(Number(p.toFixed(Math.min(d + 1, 7)))) + '%';
}
new uPlot(
  {
    title: spEl.getAttribute('data-title') ?? undefined,
    width: width(spEl),
    height: 320,
    scales: { x: { time: false, distr: 3, log: 10 }, y: { range: (_u, _lo, hi) => [0, (hi || 1) * 1.08] } },
    axes: [
      {
        label: 'percentile',
        stroke: '#555',
        grid: { stroke: '#eee' },
        splits: () => {
          const out = [1];
          for (let v = 10; v <= sp.x[sp.x.length - 1] * 1.0001; v *= 10) out.push(v);
          return out;
        },
        values: (_u, splits) => splits.map(pctLabel),
      },
      { label: 'latency (ms)', stroke: '#555', grid: { stroke: '#eee' }, size: 60 },
    ],
    series: [{ label: 'x', value: (_u: UPlot, v: number | null) => (v == null ? '--' : pctLabel(v)) } as UPlot.Series].concat(spSeries),
  },
  [sp.x, ...sp.series.map((s) => s.values)] as UPlot.AlignedData,
  spEl,
);
document.body.setAttribute('data-charts', 'drawn');
