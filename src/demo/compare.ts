/**
 * `faultline demo --compare`: the resilient and the naive shop side by side —
 * same load, same faults — from their Results alone: the breaking point, and
 * for each fault what the fault table says (what it broke, the worst each
 * request name saw while it was active, time to recovery, restart time).
 */
import type { Result } from '../result.ts';
import type { FaultCorrelation } from '../analysis/correlation.ts';
import { breachText } from '../report/terminal.ts';
import { ms, pct, rate, table, type Paint } from '../report/format.ts';

export interface DemoRun {
  mode: string;
  result: Result;
}

const secs = (v: number) => `${(v / 1000).toFixed(1)} s`;

const xPeak = (r: Result, v: number) => (r.meta.expectedPeak ? ` (${(v / r.meta.expectedPeak).toFixed(2).replace(/\.?0+$/, '')}×)` : '');

function recovery(f: FaultCorrelation | undefined): string {
  if (!f) return 'did not run';
  if (f.recovery === 'not-needed') return 'held';
  if (f.recovery === 'not-recovered') return 'not by the end';
  return `${secs(f.timeToRecoveryMs ?? 0)} after it ended`;
}

/** The side-by-side table, and the lesson in one sentence when the numbers show it. */
export function renderComparison(runs: DemoRun[], p: Paint): string {
  const rows: string[][] = [];
  const row = (label: string, cell: (r: DemoRun) => string) => rows.push([label, ...runs.map(cell)]);
  const fault = (r: DemoRun, name: string) => r.result.faults?.find((f) => f.fault === name);
  row('outcome', (r) => `exit ${r.result.outcome.exitCode} (${r.result.outcome.status})`);
  row('breaking point', (r) => {
    const bp = r.result.breakingPoint;
    if (bp) return `${rate(bp.firstFailing.rate)} req/s${xPeak(r.result, bp.firstFailing.rate)}`;
    return r.result.generatorLimit ? 'none: the generator ran out' : 'none found';
  });
  row('  what broke', (r) => (r.result.breakingPoint ? breachText(r.result.breakingPoint.clause, r.result.breakingPoint.value) : '—'));
  const faultNames = [...new Set(runs.flatMap((r) => (r.result.faults ?? []).map((f) => f.fault)))];
  for (const name of faultNames) {
    row(`⚡ ${name}`, (r) => {
      const f = fault(r, name);
      return f ? `at ${rate(f.offeredRate)} req/s for ${secs(f.end - f.start)}` : 'did not run';
    });
    row('  broke', (r) => {
      const f = fault(r, name);
      return f ? (f.blastRadius.affected.length ? f.blastRadius.affected.join(', ') : 'nothing') : '—';
    });
    const names = [...new Set(runs.flatMap((r) => Object.keys(fault(r, name)?.byName ?? {})))].sort();
    for (const n of names) {
      row(`  ${n} while active`, (r) => {
        const d = fault(r, name)?.byName[n]?.during;
        return d ? `p99 ${ms(d.p99)}, errors ${pct(d.errorRate)}` : '—';
      });
    }
    if (runs.some((r) => fault(r, name)?.restart?.downMs)) {
      row('  ready again after', (r) => {
        const down = (fault(r, name)?.restart?.downMs ?? []).filter((v): v is number => v !== null);
        return down.length ? secs(Math.max(...down)) : '—';
      });
    }
    row('  recovery', (r) => recovery(fault(r, name)));
  }
  const out = [p.bold('Side by side — same load, same faults:'), table(['', ...runs.map((r) => `${r.mode} shop`)], rows, [], p)];
  const slow = faultNames[0];
  const spread = (mode: string) => {
    const r = runs.find((x) => x.mode === mode);
    return r ? (fault(r, slow)?.blastRadius.affected ?? []) : [];
  };
  if (slow && spread('naive').includes('products') && !spread('resilient').includes('products')) {
    out.push(
      '',
      `The lesson: without a timeout, "${slow}" took GET /products down with checkout — every shop worker was waiting on payment. With a timeout and a circuit breaker, the damage stayed on checkout.`,
    );
  }
  return out.join('\n');
}
