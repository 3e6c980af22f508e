/**
 * The bench's measurements, one function each: closed-model throughput against
 * autocannon and wrk, the open-model limit, 1 vs 2 workers, memory over a long
 * run, coordinated omission against a stalled server, and rate accuracy counted
 * at the server. Generators run on core 0, targets on core 1.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { canPin, loadAverage } from './proc.ts';
import { autocannon, faultline, wrk, ROOT, type Measured, type Percentiles } from './tools.ts';
import type { Nginx } from './nginx.ts';

export const GENERATOR_CORE = '0';
export const TARGET_CORE = '1';

/** Settings every section reads. */
export interface Plan {
  rounds: number;
  /** Seconds per closed-model round and per 1-vs-2-workers run. */
  roundS: number;
  /** Seconds per probe of the open-model search. */
  probeS: number;
  /** Seconds of the memory runs (the first is always run; the rest with --long). */
  memoryS: number[];
  /** Seconds of each coordinated-omission run (a multiple of 5: one 1 s stall every 5 s). */
  coS: number;
  /** Seconds per rate-accuracy run. */
  rateS: number;
  hasWrk: boolean;
  log: (line: string) => void;
}

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const load = () => loadAverage().join(' ');
const bounded = (seconds: number) => ({ cores: GENERATOR_CORE, timeoutMs: (seconds + 60) * 1000 });

function note(plan: Plan, m: Measured, extra = ''): void {
  const lat = m.latencyMs ? ` p99 ${m.latencyMs.p99.toFixed(2)} ms` : '';
  const status = m.ok ? `${fmt(m.rps)} req/s${m.steadyRps ? ` (steady ${fmt(m.steadyRps)})` : ''}${lat}` : `FAILED: ${m.error}`;
  plan.log(`  ${m.label.padEnd(28)} ${status}${extra}  [load ${m.proc.loadBefore.join(' ')} → ${m.proc.loadAfter.join(' ')}]`);
}

// ---------------------------------------------------------------- closed model

interface Variant {
  key: string;
  tool: Measured['tool'];
  pipelining: number;
  go: (s: number) => Promise<Measured>;
}

export interface ClosedSummary {
  roundS: number;
  rounds: number;
  /** Median req/s per variant. */
  median: Record<string, number>;
  /** faultline's median divided by each other tool's, at equal connections and pipelining. */
  ratios: Record<string, number>;
  runs: Measured[];
}

export async function closedThroughput(plan: Plan, nginx: Nginx, have: { wrk: boolean }): Promise<ClosedSummary> {
  const url = nginx.url;
  const s = plan.roundS;
  const variants: Variant[] = [
    { key: 'faultline c50', tool: 'faultline', pipelining: 1, go: (d) => faultline('faultline c50', ['--url', url, '--concurrency', '50', '--connections', '50', '--workers', '1', '--duration', `${d}s`], bounded(d)) },
    {
      key: 'faultline c50 p10',
      tool: 'faultline',
      pipelining: 10,
      // 50 connections × 10 in the pipe: 500 requests outstanding, as autocannon -c 50 -p 10 keeps.
      go: (d) => faultline('faultline c50 p10', ['--url', url, '--concurrency', '500', '--connections', '50', '--pipelining', '10', '--workers', '1', '--duration', `${d}s`], bounded(d)),
    },
    { key: 'autocannon c50', tool: 'autocannon', pipelining: 1, go: (d) => autocannon('autocannon c50', ['-c', '50', '-d', String(d)], url, bounded(d)) },
    { key: 'autocannon c50 p10', tool: 'autocannon', pipelining: 10, go: (d) => autocannon('autocannon c50 p10', ['-c', '50', '-p', '10', '-d', String(d)], url, bounded(d)) },
  ];
  if (have.wrk) {
    variants.push(
      { key: 'wrk c50', tool: 'wrk', pipelining: 1, go: (d) => wrk('wrk c50', ['-t', '1', '-c', '50', '-d', `${d}s`], url, 1, bounded(d)) },
      { key: 'wrk c50 p10', tool: 'wrk', pipelining: 10, go: (d) => wrk('wrk c50 p10', ['-t', '1', '-c', '50', '-d', `${d}s`], url, 10, bounded(d)) },
    );
  }
  const runs: Measured[] = [];
  for (let r = 0; r < plan.rounds; r++) {
    plan.log(`closed model, round ${r + 1}/${plan.rounds} (${s} s each, load ${load()})`);
    // Interleaved, and the order rotates each round so no tool always follows the same one.
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length];
      const m = await v.go(s);
      runs.push(m);
      note(plan, m);
    }
  }
  const med: Record<string, number> = {};
  for (const v of variants) med[v.key] = median(runs.filter((m) => m.label === v.key && m.ok).map((m) => m.rps));
  const ratios: Record<string, number> = {};
  for (const p of ['', ' p10']) {
    for (const other of ['autocannon', 'wrk']) {
      const k = `${other} c50${p}`;
      if (med[k] !== undefined) ratios[`faultline/${k}`] = med[`faultline c50${p}`] / med[k];
    }
  }
  return { roundS: s, rounds: plan.rounds, median: med, ratios, runs };
}

// ---------------------------------------------------------------- open model

export interface OpenSummary {
  /** Highest probed rate that held, req/s (NaN if even the lowest did not). */
  limit: number;
  /** The lowest probed rate that did not hold, and why. */
  failedAt?: number;
  failedBecause?: string;
  criteria: string;
  probes: (Measured & { rate: number; held: boolean; slip: number; why?: string })[];
}

/** Arrivals never sent, as a share of the planned ones. */
const slipShare = (m: Measured) => (m.planned ? Math.max(0, 1 - (m.sent ?? 0) / m.planned) : 1);

/** The highest constant arrival rate one worker holds: < 1% of arrivals left unsent and no generator warning. */
export async function openLimit(plan: Plan, nginx: Nginx, hint: number): Promise<OpenSummary> {
  const probes: OpenSummary['probes'] = [];
  // On a shared machine a probe can fail for a neighbour's sake: a rate counts as not held only when two tries fail.
  const probe = async (rate: number) => (await tryRate(rate)) || (await tryRate(rate));
  const tryRate = async (rate: number) => {
    const d = plan.probeS;
    const m = await faultline(`faultline open ${rate}/s`, ['--url', nginx.url, '--rate', String(rate), '--connections', '50', '--workers', '1', '--duration', `${d}s`], bounded(d));
    const slip = slipShare(m);
    const held = m.ok && slip < 0.01 && !m.generatorLimited && m.errors === 0;
    const why = !m.ok ? m.error : m.generatorLimited ? m.generatorReason : slip >= 0.01 ? `${(slip * 100).toFixed(1)}% of arrivals not sent` : m.errors ? `${m.errors} errors` : undefined;
    probes.push({ ...m, rate, held, slip, why });
    note(plan, m, ` — ${held ? 'held' : `did not hold: ${why}`} (unsent ${(slip * 100).toFixed(2)}%, slip p99 ≤ ${m.maxSlipP99Ms?.toFixed(1)} ms)`);
    return held;
  };
  plan.log(`open model: searching the highest rate one worker holds (${plan.probeS} s probes, 50 connections)`);
  const round = (x: number) => Math.max(500, Math.round(x / 500) * 500);
  let lo = round(Math.min(10_000, hint / 4));
  while (!(await probe(lo))) {
    if (lo <= 500) return { limit: NaN, criteria: CRITERIA, probes, failedAt: lo, failedBecause: probes.at(-1)?.why };
    lo = round(lo / 2);
  }
  // The closed model with the same connections bounds what an open schedule can send.
  let hi = round(Math.max(hint * 1.15, lo * 2));
  if (await probe(hi)) return { limit: hi, criteria: CRITERIA, probes };
  let failedWhy = probes.at(-1)?.why;
  while ((hi - lo) / lo > 0.04 && probes.length < 14) {
    const mid = round((lo + hi) / 2);
    if (mid === lo || mid === hi) break;
    if (await probe(mid)) lo = mid;
    else {
      hi = mid;
      failedWhy = probes.at(-1)?.why;
    }
  }
  return { limit: lo, failedAt: hi, failedBecause: failedWhy, criteria: CRITERIA, probes };
}

const CRITERIA = 'fewer than 1% of planned arrivals left unsent, no window flagged generator-limited, no errors (a rate fails only when two tries fail)';

// ---------------------------------------------------------------- workers

export interface WorkersSummary {
  median: Record<string, number>;
  runs: Measured[];
  note: string;
}

export async function workers(plan: Plan, nginx: Nginx): Promise<WorkersSummary> {
  const d = plan.roundS;
  const base = ['--url', nginx.url, '--concurrency', '50', '--connections', '50', '--duration', `${d}s`];
  const variants: { key: string; go: () => Promise<Measured> }[] = [
    { key: '1 worker, core 0', go: () => faultline('1 worker, core 0', [...base, '--workers', '1'], bounded(d)) },
    { key: '2 workers, core 0', go: () => faultline('2 workers, core 0', [...base, '--workers', '2'], bounded(d)) },
    // Unpinned: the two workers may use both cores, but nginx's core is one of them.
    { key: '2 workers, unpinned', go: () => faultline('2 workers, unpinned', [...base, '--workers', '2'], { timeoutMs: (d + 60) * 1000 }) },
  ];
  const runs: Measured[] = [];
  for (let r = 0; r < plan.rounds; r++) {
    plan.log(`workers, round ${r + 1}/${plan.rounds} (closed model, 50 connections in all, ${d} s each, load ${load()})`);
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length];
      const m = await v.go();
      runs.push(m);
      note(plan, m);
    }
  }
  const med: Record<string, number> = {};
  for (const v of variants) med[v.key] = median(runs.filter((m) => m.label === v.key && m.ok).map((m) => m.rps));
  return {
    median: med,
    runs,
    note: 'This machine has 2 cores and nginx holds one: pinned to core 0, two workers share one core (no gain is possible); unpinned, the second worker takes CPU from nginx, so neither number shows how workers scale on a machine with spare cores.',
  };
}

// ---------------------------------------------------------------- agents

export interface AgentsSummary {
  /** Median req/s by number of local agents. */
  median: Record<string, number>;
  /** Median req/s of N agents ÷ that of 1 agent. */
  scaling: Record<string, number>;
  runs: Measured[];
  note: string;
}

/**
 * `run --agents N`: 1, 2 and 4 local agent processes (one worker each) splitting
 * a closed-model load of 50 connections, all pinned to the generator core (children
 * inherit the affinity), so the ratio shows what scale-out itself costs on fixed CPU:
 * on this machine it cannot show more throughput, only overhead.
 */
export async function agents(plan: Plan, nginx: Nginx): Promise<AgentsSummary> {
  const d = plan.roundS;
  const counts = [1, 2, 4];
  const base = ['--url', nginx.url, '--concurrency', '50', '--connections', '50', '--workers', '1', '--duration', `${d}s`];
  const runs: Measured[] = [];
  for (let r = 0; r < plan.rounds; r++) {
    plan.log(`agents, round ${r + 1}/${plan.rounds} (closed model, 50 connections in all, one worker per agent, ${d} s each, load ${load()})`);
    for (let i = 0; i < counts.length; i++) {
      const n = counts[(i + r) % counts.length];
      const key = `${n} agent${n > 1 ? 's' : ''}`;
      const m = await faultline(key, [...base, '--agents', String(n)], bounded(d + 30));
      runs.push(m);
      note(plan, m);
    }
  }
  const med: Record<string, number> = {};
  for (const n of counts) {
    const key = `${n} agent${n > 1 ? 's' : ''}`;
    med[key] = median(runs.filter((m) => m.label === key && m.ok).map((m) => m.rps));
  }
  const scaling: Record<string, number> = {};
  for (const k of Object.keys(med)) scaling[k] = med[k] / med['1 agent'];
  return {
    median: med,
    scaling,
    runs,
    note: 'All agents share core 0 (nginx has core 1): on a quiet machine N agents can send no more than one, and the ratio is the cost of scale-out (N processes, one merge) at fixed CPU. On a busy machine more processes also win a larger share of a contended core, so a ratio above 1 here is not scaling. With a core per agent and a target that is not the limit, the same command measures scaling.',
  };
}

// ---------------------------------------------------------------- memory

export interface MemorySummary {
  rate: number;
  runs: (Measured & { seconds: number; rssAt10sMb: number; rssEndMb: number; growthPct: number })[];
}

export async function memory(plan: Plan, nginx: Nginx, rate: number): Promise<MemorySummary> {
  const runs: MemorySummary['runs'] = [];
  for (const seconds of plan.memoryS) {
    plan.log(`memory: ${rate} req/s for ${seconds} s, resident memory sampled every second (load ${load()})`);
    const m = await faultline(`memory ${seconds} s`, ['--url', nginx.url, '--rate', String(rate), '--connections', '50', '--workers', '1', '--duration', `${seconds}s`], {
      ...bounded(seconds),
      rssEveryMs: 1000,
    });
    const rss = m.proc.rssMb;
    // Sample i is taken about i s after the start; the run's own first seconds are start-up.
    const at10 = rss[Math.min(rss.length - 1, 10)] ?? NaN;
    const end = rss.at(-2) ?? rss.at(-1) ?? NaN;
    const growthPct = ((end - at10) / at10) * 100;
    runs.push({ ...m, seconds, rssAt10sMb: at10, rssEndMb: end, growthPct });
    note(plan, m, ` — RSS ${at10} MB at 10 s, ${end} MB at the end (${growthPct >= 0 ? '+' : ''}${growthPct.toFixed(1)}%), peak ${m.proc.peakRssMb} MB`);
  }
  return { rate, runs };
}

// ---------------------------------------------------------------- coordinated omission

/** A counting server in its own process (test/helpers/process-server.mjs), on the target core, so the bench can SIGSTOP it. */
interface StallServer {
  url: string;
  /** Resolves when the server has seen its first request (the load has begun). */
  firstRequest: Promise<void>;
  count(): number;
  stop(): Promise<number>;
  pause(): void;
  resume(): void;
}

async function stallServer(): Promise<StallServer> {
  const file = join(ROOT, 'test', 'helpers', 'process-server.mjs');
  const argv = [process.execPath, file];
  const child = canPin() ? spawn('taskset', ['-c', TARGET_CORE, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let n = 0;
  let buf = '';
  let started: () => void = () => {};
  const firstRequest = new Promise<void>((r) => (started = r));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const p = /^port (\d+)$/.exec(line);
        if (p) resolve(Number(p[1]));
        const c = /^count (\d+)$/.exec(line);
        if (c) {
          n = Number(c[1]);
          if (n > 0) started();
        }
      }
    });
    child.once('exit', () => reject(new Error('the counting server exited')));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url: `http://127.0.0.1:${port}/`,
    firstRequest,
    count: () => n,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
      return n;
    },
  };
}

const STALL_OFFSET_MS = 2500;

export interface CoSummary {
  rate: number;
  seconds: number;
  connections: number;
  stalls: number;
  analyticMs: Percentiles;
  explanation: string;
  runs: (Measured & { serverCount: number; stallsDone: number })[];
}

export async function coordinatedOmission(plan: Plan): Promise<CoSummary> {
  const rate = 1000;
  const seconds = plan.coS;
  const conns = 10;
  const tools: { key: string; go: (url: string) => Promise<Measured> }[] = [
    { key: 'faultline', go: (url) => faultline('faultline (open model)', ['--url', url, '--rate', String(rate), '--connections', String(conns), '--workers', '1', '--duration', `${seconds}s`], bounded(seconds)) },
    { key: 'autocannon', go: (url) => autocannon(`autocannon -R ${rate}`, ['-c', String(conns), '-R', String(rate), '-d', String(seconds)], url, bounded(seconds)) },
    { key: 'wrk', go: (url) => wrk('wrk (closed, no rate)', ['-t', '1', '-c', String(conns), '-d', `${seconds}s`], url, 1, bounded(seconds)) },
  ];
  const runs: CoSummary['runs'] = [];
  plan.log(`coordinated omission: ${rate} req/s for ${seconds} s at a server stopped for 1 s every 5 s (${conns} connections, load ${load()})`);
  for (const t of tools) {
    if (t.key === 'wrk' && !plan.hasWrk) continue;
    const server = await stallServer();
    const timers: NodeJS.Timeout[] = [];
    let stallsDone = 0;
    // Stalls begin 2.5 s after the first request reaches the server, then every 5 s, each 1 s long. Half a
    // second off the whole seconds: autocannon -R sends each second's requests in a burst at its start, and a
    // stall in step with those bursts would fall between them and never be seen.
    void server.firstRequest.then(() => {
      for (let at = STALL_OFFSET_MS; at + 1000 <= seconds * 1000; at += 5000) {
        timers.push(setTimeout(() => server.pause(), at));
        timers.push(
          setTimeout(() => {
            server.resume();
            stallsDone++;
          }, at + 1000),
        );
      }
    });
    let m: Measured;
    try {
      m = await t.go(server.url);
    } finally {
      for (const x of timers) clearTimeout(x);
      server.resume();
    }
    const serverCount = await server.stop();
    runs.push({ ...m, serverCount, stallsDone });
    const svc = m.serviceMs ? ` · service p90 ${m.serviceMs.p90.toFixed(1)} p99 ${m.serviceMs.p99.toFixed(1)} ms` : '';
    note(plan, m, ` — p90 ${m.latencyMs?.p90.toFixed(1)} ms, p99 ${m.latencyMs?.p99.toFixed(1)} ms${svc}; server counted ${serverCount}; ${stallsDone} stalls`);
  }
  return {
    rate,
    seconds,
    connections: conns,
    stalls: Math.floor((seconds * 1000 - STALL_OFFSET_MS - 1000) / 5000) + 1,
    analyticMs: { p50: 0, p90: 500, p99: 950, p999: 995, max: 1000 },
    explanation:
      'A fifth of the arrivals fall in a stall and wait a uniform share of it (0–1000 ms); the rest are served at once. So corrected p90 ≈ 500 ms (the middle of the stalled fifth), p99 ≈ 950 ms, p99.9 ≈ 995 ms, plus the time to drain the backlog after each stall. ' +
      'autocannon -R sends each connection\'s share in bursts and corrects with recordValueWithExpectedInterval at an expected interval of ceil(1/rate) ms = 1 ms, which adds a synthetic sample per millisecond of every slow response. ' +
      'wrk has no rate: a closed model sends nothing while its connections wait (one slow request per connection per stall), then corrects after the fact (stats_correct) with the mean interval per connection as the expected interval.',
    runs,
  };
}

// ---------------------------------------------------------------- rate accuracy

export interface RateSummary {
  seconds: number;
  runs: (Measured & { rate: number; planned: number; serverCount: number; serverShare: number })[];
}

export async function rateAccuracy(plan: Plan, nginx: Nginx, limit: number): Promise<RateSummary> {
  const seconds = plan.rateS;
  const rates = [...new Set([1000, 5000, limit * 0.25, limit * 0.5, limit * 0.75, limit].map((r) => Math.max(500, Math.round(r / 500) * 500)))].sort((a, b) => a - b);
  const runs: RateSummary['runs'] = [];
  plan.log(`rate accuracy: requests counted by nginx (stub_status) against the schedule, ${seconds} s each (load ${load()})`);
  for (const rate of rates) {
    const before = await nginx.requests();
    const m = await faultline(`rate ${rate}/s`, ['--url', nginx.fileUrl, '--rate', String(rate), '--connections', '50', '--workers', '1', '--duration', `${seconds}s`], bounded(seconds));
    const after = await nginx.requests();
    // Each stub_status reading counts itself: the second reading is one more than the load sent.
    const serverCount = after - before - 1;
    const planned = rate * seconds;
    runs.push({ ...m, rate, planned, serverCount, serverShare: serverCount / planned });
    note(plan, m, ` — nginx counted ${fmt(serverCount)} of ${fmt(planned)} planned (${((serverCount / planned) * 100).toFixed(2)}%)${m.generatorLimited ? ' [generator-limited]' : ''}`);
  }
  return { seconds, runs };
}
