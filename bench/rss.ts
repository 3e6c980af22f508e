/**
 * Memory flat in request count: faultline's resident memory at every million
 * responses, from 1 to 10 million, in a closed-model run at pipelining 10
 * against the bench's pinned nginx (bench/lib/nginx.ts). Responses are counted
 * at the server (stub_status). Flat means RSS at 10 M within 10% of RSS at 1 M.
 *
 *   node bench/rss.ts                      # 10 million, pipelining 10 (a few minutes)
 *   node bench/rss.ts --millions 3 --pipelining 4
 *
 * Writes bench/results/rss-<date>.json. Everything listens on 127.0.0.1 and the
 * run is bounded (30 minutes at most).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startNginx, ensureDebianTools } from './lib/nginx.ts';
import { canPin, loadAverage } from './lib/proc.ts';
import { ROOT } from './lib/tools.ts';
import { GENERATOR_CORE, TARGET_CORE } from './lib/sections.ts';

const { values } = parseArgs({ options: { millions: { type: 'string', default: '10' }, pipelining: { type: 'string', default: '10' } } });
const millions = Number(values.millions);
const pipelining = Number(values.pipelining);
const log = (s: string) => process.stderr.write(`${s}\n`);

function rssMb(pid: number): number {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(st)?.[1] ?? NaN) / 1024;
}

const tools = ensureDebianTools(['nginx'], log);
if (!tools.nginx?.ok) {
  log(`rss: nginx is needed (${tools.nginx?.note ?? 'missing'})`);
  process.exit(2);
}
const nginx = await startNginx(TARGET_CORE);
const samples: { responses: number; rssMb: number; atS: number; load: number[] }[] = [];
let exitCode = 0;
try {
  const flags = ['run', '--url', nginx.url, '--concurrency', String(50 * pipelining), '--connections', '50', '--pipelining', String(pipelining), '--workers', '1', '--duration', '1800s', '-q'];
  const argv = [process.execPath, join(ROOT, 'bin', 'faultline.js'), ...flags];
  // taskset execs the command: the pid sampled is faultline's own.
  const child = canPin() ? spawn('taskset', ['-c', GENERATOR_CORE, ...argv], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }) : spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = await nginx.requests();
  const t0 = performance.now();
  let next = 1;
  log(`rss: faultline ${flags.join(' ')} (pid ${child.pid}), sampling RSS at every million responses up to ${millions} M`);
  while (next <= millions && child.exitCode === null && performance.now() - t0 < 1_800_000) {
    await new Promise((r) => setTimeout(r, 200));
    const served = (await nginx.requests()) - base;
    if (served < next * 1_000_000) continue;
    const s = { responses: served, rssMb: Math.round(rssMb(child.pid!) * 10) / 10, atS: Math.round((performance.now() - t0) / 100) / 10, load: loadAverage() };
    samples.push(s);
    log(`  ${(s.responses / 1e6).toFixed(2)} M responses at ${s.atS} s: RSS ${s.rssMb} MB (load ${s.load.join(' ')})`);
    while (next * 1_000_000 <= served) next++;
  }
  child.kill('SIGINT');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
} finally {
  await nginx.stop();
}
if (samples.length < 2) {
  log('rss: fewer than two samples: nothing to compare');
  process.exit(1);
}
const first = samples[0];
const last = samples[samples.length - 1];
const growthPct = ((last.rssMb - first.rssMb) / first.rssMb) * 100;
const flat = Math.abs(growthPct) <= 10;
const out = { date: new Date().toISOString(), pipelining, pinned: canPin(), node: process.version, samples, growthPct, flat };
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const file = join(ROOT, 'bench', 'results', `rss-${out.date.slice(0, 10)}.json`);
writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
console.log(`RSS ${first.rssMb} MB at ${(first.responses / 1e6).toFixed(1)} M responses, ${last.rssMb} MB at ${(last.responses / 1e6).toFixed(1)} M: ${growthPct >= 0 ? '+' : ''}${growthPct.toFixed(1)}% — ${flat ? 'flat (within 10%)' : 'NOT flat'} (pipelining ${pipelining}; ${file})`);
if (!flat) exitCode = 1;
process.exit(exitCode);
