/** The summary printed at the end of a bench run (also pasted into bench/README.md). */
import type { AgentsSummary, ClosedSummary, CoSummary, MemorySummary, OpenSummary, RateSummary, WorkersSummary } from './sections.ts';

/** What a results file holds (bench/results/<date>.json). */
export interface BenchOutput {
  version: number;
  startedAt: string;
  endedAt: string;
  command: string;
  machine: {
    cores: number;
    cpu?: string;
    node: string;
    faultline?: string;
    commit?: string;
    undici?: string;
    autocannon?: string;
    nginx?: string;
    wrk?: string;
    pinned: boolean;
    loadBefore: number[];
    loadAfter: number[];
  };
  skipped: string[];
  results: {
    closed?: ClosedSummary;
    open?: OpenSummary;
    workers?: WorkersSummary;
    agents?: AgentsSummary;
    memory?: MemorySummary;
    co?: CoSummary;
    rate?: RateSummary;
  };
}

const n = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const ms = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '—');
const ratio = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');

function grid(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/** What faultline itself said about a run that fell behind its schedule, in brief. */
function said(x: { generatorLimited?: boolean; windowNotes?: string[] }): string {
  if (x.generatorLimited) return 'generator-limited';
  if (x.windowNotes?.some((s) => s.includes('slots busy'))) return 'all connections busy at times';
  return '';
}

export function renderTable(o: BenchOutput): string {
  const m = o.machine;
  const out: string[] = [];
  const r = o.results;
  out.push(
    `faultline ${m.faultline ?? ''} (${m.commit ?? 'no git'}) · ${m.cores} cores ${m.cpu ?? ''} · Node ${m.node} · undici ${m.undici} · autocannon ${m.autocannon} · ${m.wrk ?? 'no wrk'} · nginx ${m.nginx ?? 'missing'}`,
  );
  out.push(`load average before ${m.loadBefore.join(' ')}, after ${m.loadAfter.join(' ')}; ${m.pinned ? 'generators on core 0, targets on core 1' : 'NOT pinned'}`);
  if (r.closed) {
    const c = r.closed;
    out.push('', `Closed model, 50 connections, one generator thread: median req/s of ${c.rounds} interleaved rounds of ${c.roundS} s`);
    out.push(
      grid([
        ['', 'faultline', 'autocannon', 'wrk', 'faultline/autocannon', 'faultline/wrk'],
        ['no pipelining', n(c.median['faultline c50']), n(c.median['autocannon c50']), n(c.median['wrk c50']), ratio(c.ratios['faultline/autocannon c50']), ratio(c.ratios['faultline/wrk c50'])],
        ['pipelining 10', n(c.median['faultline c50 p10']), n(c.median['autocannon c50 p10']), n(c.median['wrk c50 p10']), ratio(c.ratios['faultline/autocannon c50 p10']), ratio(c.ratios['faultline/wrk c50 p10'])],
      ]),
    );
  }
  if (r.open) {
    const op = r.open;
    out.push('', `Open model, one worker, 50 connections: highest constant arrival rate held = ${n(op.limit)} req/s`);
    out.push(`  (${op.criteria}${op.failedAt ? `; ${n(op.failedAt)} req/s did not hold: ${op.failedBecause}` : ''})`);
  }
  if (r.workers) {
    const w = r.workers;
    out.push('', 'Workers, closed model, 50 connections in all (median req/s)');
    out.push(grid(Object.entries(w.median).map(([k, v]) => [`  ${k}`, n(v)])));
    out.push(`  ${w.note}`);
  }
  if (r.agents) {
    const a = r.agents;
    out.push('', 'Local agents (run --agents N), closed model, 50 connections in all, one worker each (median req/s, ratio to 1 agent)');
    out.push(grid(Object.entries(a.median).map(([k, v]) => [`  ${k}`, n(v), ratio(a.scaling[k])])));
    out.push(`  ${a.note}`);
  }
  if (r.memory) {
    out.push('', `Memory at ${n(r.memory.rate)} req/s (resident set, MB)`);
    out.push(
      grid([
        ['', 'at 10 s', 'at end', 'growth', 'peak'],
        ...r.memory.runs.map((x) => [`  ${x.seconds} s run`, ms(x.rssAt10sMb), ms(x.rssEndMb), `${x.growthPct >= 0 ? '+' : ''}${x.growthPct.toFixed(1)}%`, ms(x.proc.peakRssMb)]),
      ]),
    );
  }
  if (r.co) {
    const c = r.co;
    out.push('', `Coordinated omission: ${c.rate} req/s for ${c.seconds} s, server stopped 1 s every 5 s (${c.stalls} stalls), ${c.connections} connections (ms)`);
    const rows = [['', 'p50', 'p90', 'p99', 'p99.9', 'max', 'sent (server count)']];
    rows.push(['  analytic (corrected)', '≈0', ms(c.analyticMs.p90), ms(c.analyticMs.p99), ms(c.analyticMs.p999), ms(c.analyticMs.max), n(c.rate * c.seconds)]);
    for (const x of c.runs) {
      const l = x.latencyMs;
      rows.push([`  ${x.label}${x.tool === 'faultline' ? ' corrected' : ''}`, ms(l?.p50), ms(l?.p90), ms(l?.p99), ms(l?.p999), ms(l?.max), n(x.serverCount)]);
      if (x.serviceMs) rows.push([`  ${x.label} service time`, ms(x.serviceMs.p50), ms(x.serviceMs.p90), ms(x.serviceMs.p99), ms(x.serviceMs.p999), ms(x.serviceMs.max), '']);
    }
    out.push(grid(rows));
    out.push('  (wrk runs closed: it has no rate; its "sent" is what 10 connections managed)');
  }
  if (r.rate) {
    out.push('', `Rate accuracy: requests nginx counted vs the schedule (${r.rate.seconds} s each)`);
    out.push(
      grid([
        ['offered req/s', 'planned', 'nginx counted', 'counted/planned', 'faultline achieved req/s', 'faultline said'],
        ...r.rate.runs.map((x) => [n(x.rate), n(x.planned), n(x.serverCount), `${(x.serverShare * 100).toFixed(2)}%`, n(x.rps), said(x)]),
      ]),
    );
  }
  if (o.skipped.length) out.push('', 'Skipped or degraded:', ...o.skipped.map((s) => `  - ${s}`));
  return out.join('\n');
}
