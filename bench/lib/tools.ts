/**
 * One runner per load generator, each returning the same shape: requests,
 * duration, rate, latency percentiles and the process's own figures
 * (wall time, memory, load average around it). Every run is bounded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type ProcResult, type RunOptions } from './proc.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Latency percentiles, ms. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** One run of one tool, as the results file keeps it. */
export interface Measured {
  tool: 'faultline' | 'autocannon' | 'wrk';
  label: string;
  command: string;
  ok: boolean;
  error?: string;
  requests: number;
  durationS: number;
  /** requests / durationS over the whole run (warm-up included, for every tool alike). */
  rps: number;
  /** faultline: the rate without its first window (the worker's warm-up). */
  steadyRps?: number;
  errors: number;
  /** As the tool reports it: corrected (from the intended send) for faultline's open model and autocannon -R. */
  latencyMs?: Percentiles;
  /** faultline: service time (from the actual send). */
  serviceMs?: Percentiles;
  generatorLimited?: boolean;
  generatorReason?: string;
  /** faultline open model: worst per-window p99 of send slip, ms; planned arrivals; arrivals sent. */
  maxSlipP99Ms?: number;
  planned?: number;
  sent?: number;
  /** faultline: worst event-loop utilisation of the worker in any window. */
  maxElu?: number;
  /** faultline: each distinct reason a window gave for falling behind (generator, or every connection slot busy). */
  windowNotes?: string[];
  proc: Omit<ProcResult, 'stdout' | 'stderr'>;
}

const node = process.execPath;

function strip(p: ProcResult): Measured['proc'] {
  const { stdout: _o, stderr: _e, ...proc } = p;
  return proc;
}

function fail(tool: Measured['tool'], label: string, command: string, p: ProcResult, error: string): Measured {
  return { tool, label, command, ok: false, error, requests: 0, durationS: 0, rps: 0, errors: 0, proc: strip(p) };
}

interface FaultlineStage {
  requests: number;
  start: number;
  end: number;
  errorCount: number;
  generatorLimited: boolean;
  generatorReason?: string;
  latency: Percentiles;
  serviceTime: Percentiles;
}
interface FaultlineWindow {
  stage: number;
  start: number;
  end: number;
  offered: number;
  sent: number;
  overall: { requests: number };
  generator: { slipP99Ms: number; elu: number; reason?: string };
}

const pick = (l: Percentiles): Percentiles => ({ p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, max: l.max });

/** `faultline run <flags> --json … -q` with the repo's CLI. */
export async function faultline(label: string, flags: string[], o: RunOptions): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-'));
  const out = join(dir, 'result.json');
  const args = [join(ROOT, 'bin', 'faultline.js'), 'run', ...flags, '--json', out, '-q'];
  const command = `faultline run ${flags.join(' ')}`;
  const p = await run(node, args, { cwd: ROOT, ...o });
  try {
    let r: { stages: FaultlineStage[]; timeline: { windows: FaultlineWindow[] } };
    try {
      r = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      return fail('faultline', label, command, p, `no result (exit ${p.code}): ${p.stderr.trim().split('\n').slice(-2).join(' ')}`);
    }
    const s = r.stages[r.stages.length - 1];
    const wins = r.timeline.windows.filter((w) => w.stage === r.stages.length - 1);
    const durationS = (s.end - s.start) / 1000;
    const later = wins.slice(1);
    const laterS = later.reduce((a, w) => a + (w.end - w.start) / 1000, 0);
    return {
      tool: 'faultline',
      label,
      command,
      ok: true,
      requests: s.requests,
      durationS,
      rps: s.requests / durationS,
      steadyRps: laterS > 0 ? later.reduce((a, w) => a + w.overall.requests, 0) / laterS : undefined,
      errors: s.errorCount,
      latencyMs: pick(s.latency),
      serviceMs: pick(s.serviceTime),
      generatorLimited: s.generatorLimited,
      generatorReason: s.generatorReason,
      maxSlipP99Ms: Math.max(0, ...wins.map((w) => w.generator.slipP99Ms)),
      planned: wins.reduce((a, w) => a + w.offered, 0),
      sent: wins.reduce((a, w) => a + w.sent, 0),
      maxElu: Math.max(0, ...wins.map((w) => w.generator.elu)),
      windowNotes: [...new Set(wins.map((w) => w.generator.reason?.replace(/\d[\d.,]*/g, 'N')).filter((x): x is string => !!x))],
      proc: strip(p),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** autocannon (the npm devDependency) with `-j`: its JSON result on stdout. */
export async function autocannon(label: string, flags: string[], url: string, o: RunOptions): Promise<Measured> {
  const bin = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
  const command = `autocannon ${flags.join(' ')} ${url}`;
  const p = await run(node, [bin, ...flags, '-j', url], o);
  let j: {
    requests: { total: number };
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    latency: { p50: number; p90: number; p99: number; p99_9: number; max: number };
  };
  try {
    j = JSON.parse(p.stdout);
  } catch {
    return fail('autocannon', label, command, p, `no JSON (exit ${p.code}): ${p.stderr.trim().split('\n').slice(-2).join(' ')}`);
  }
  return {
    tool: 'autocannon',
    label,
    command,
    ok: true,
    requests: j.requests.total,
    durationS: j.duration,
    rps: j.requests.total / j.duration,
    errors: j.errors + j.timeouts + j.non2xx,
    latencyMs: { p50: j.latency.p50, p90: j.latency.p90, p99: j.latency.p99, p999: j.latency.p99_9, max: j.latency.max },
    proc: strip(p),
  };
}

/** wrk (Debian) with bench/wrk/report.lua, which pipelines when asked and prints one JSON line. */
export async function wrk(label: string, flags: string[], url: string, pipelining: number, o: RunOptions): Promise<Measured> {
  const script = join(ROOT, 'bench', 'wrk', 'report.lua');
  const args = [...flags, '-s', script, url, ...(pipelining > 1 ? ['--', String(pipelining)] : [])];
  const command = `wrk ${args.join(' ').replace(script, 'bench/wrk/report.lua')}`;
  const p = await run('wrk', args, o);
  const line = p.stdout.split('\n').find((l) => l.startsWith('JSON '));
  if (!line) return fail('wrk', label, command, p, `no summary (exit ${p.code}): ${(p.stderr || p.stdout).trim().split('\n').slice(-2).join(' ')}`);
  const j = JSON.parse(line.slice(5)) as {
    requests: number;
    duration_us: number;
    errors: Record<string, number>;
    latency_us: { p50: number; p90: number; p99: number; p999: number; max: number };
  };
  const ms = (v: number) => v / 1000;
  const durationS = j.duration_us / 1e6;
  return {
    tool: 'wrk',
    label,
    command,
    ok: true,
    requests: j.requests,
    durationS,
    rps: j.requests / durationS,
    errors: Object.values(j.errors).reduce((a, b) => a + b, 0),
    latencyMs: { p50: ms(j.latency_us.p50), p90: ms(j.latency_us.p90), p99: ms(j.latency_us.p99), p999: ms(j.latency_us.p999), max: ms(j.latency_us.max) },
    proc: strip(p),
  };
}
