/**
 * `npm run bench`: faultline measured against autocannon and wrk on this
 * machine, and against ground truth (a stalled server, a server-side count).
 * Not part of `npm test`. Every run is bounded; see bench/README.md.
 *
 *   npm run bench                 full run (≈ 12 minutes)
 *   npm run bench -- --quick      shorter rounds (≈ 4 minutes)
 *   npm run bench -- --long       adds the 10-minute memory run
 *   npm run bench -- --only closed,co
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { canPin, loadAverage, versionOf } from './lib/proc.ts';
import { ensureDebianTools, startNginx, type Nginx } from './lib/nginx.ts';
import { ROOT } from './lib/tools.ts';
import {
  closedThroughput,
  coordinatedOmission,
  memory,
  openLimit,
  rateAccuracy,
  workers,
  agents,
  type Plan,
} from './lib/sections.ts';
import { renderTable, type BenchOutput } from './lib/table.ts';

const SECTIONS = ['closed', 'open', 'workers', 'agents', 'memory', 'co', 'rate'] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `usage: npm run bench -- [--quick] [--long] [--rounds N] [--only ${SECTIONS.join(',')}] [--out FILE]`;

interface Flags {
  quick: boolean;
  long: boolean;
  rounds: number;
  only: Set<Section>;
  out?: string;
}

function parseFlags(argv: string[]): Flags {
  const f: Flags = { quick: false, long: false, rounds: 3, only: new Set(SECTIONS) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') f.quick = true;
    else if (a === '--long') f.long = true;
    else if (a === '--rounds') {
      f.rounds = Number(argv[++i]);
      if (!Number.isInteger(f.rounds) || f.rounds < 1 || f.rounds > 20) usage(`--rounds: expected a whole number from 1 to 20, got ${JSON.stringify(argv[i])}`);
    } else if (a === '--only') {
      const list = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = list.filter((x) => !(SECTIONS as readonly string[]).includes(x));
      if (list.length === 0 || bad.length) usage(`--only: expected some of ${SECTIONS.join(',')}, got ${JSON.stringify(argv[i] ?? '')}`);
      f.only = new Set(list as Section[]);
    } else if (a === '--out') {
      f.out = argv[++i];
      if (!f.out) usage('--out: expected a file name');
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else usage(`unknown flag ${JSON.stringify(a)}`);
  }
  return f;
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`${line}\n`);

function machine() {
  const pkg = (p: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, p), 'utf8')) as { version: string }).version;
    } catch {
      return undefined;
    }
  };
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    faultline: pkg('package.json'),
    commit: git.status === 0 ? git.stdout.trim() + (dirty.stdout.trim() ? ' (src has uncommitted changes)' : '') : undefined,
    undici: pkg('node_modules/undici/package.json'),
    autocannon: pkg('node_modules/autocannon/package.json'),
    nginx: versionOf('nginx', ['-v'])?.replace(/^nginx version: /, ''),
    wrk: versionOf('wrk', ['-v'])?.split(' ').slice(0, 2).join(' '),
    pinned: canPin() && cpus().length >= 2,
  };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const q = flags.quick;
  const plan: Plan = {
    rounds: flags.rounds,
    roundS: q ? 3 : 10,
    probeS: q ? 3 : 5,
    memoryS: flags.long ? [q ? 15 : 60, 600] : [q ? 15 : 60],
    coS: q ? 10 : 20,
    rateS: q ? 3 : 5,
    hasWrk: false,
    log,
  };
  const started = new Date();
  const loadBefore = loadAverage();
  const skipped: string[] = [];
  log(`faultline bench${q ? ' (quick)' : ''}: ${flags.rounds} rounds of ${plan.roundS} s; sections ${[...flags.only].join(', ')}; load average ${loadBefore.join(' ')}`);

  const tools = ensureDebianTools(['nginx', 'wrk'], log);
  for (const [name, t] of Object.entries(tools)) if (!t.ok) skipped.push(`${name}: ${t.note}`);
  plan.hasWrk = tools.wrk.ok;
  if (!plan.hasWrk) log(`wrk is missing: wrk's columns are skipped (${tools.wrk.note})`);
  const facts = machine();
  if (!facts.pinned) {
    const why = facts.cores < 2 ? `this machine has ${facts.cores} core` : 'taskset (util-linux) is not available';
    skipped.push(`pinning: ${why}; generators and targets share the cores`);
    log(`cannot pin to cores (${why}): figures are not comparable with pinned ones`);
  }

  const needsNginx = (['closed', 'open', 'workers', 'agents', 'memory', 'rate'] as Section[]).filter((s) => flags.only.has(s));
  let nginx: Nginx | undefined;
  if (needsNginx.length && tools.nginx.ok) {
    try {
      nginx = await startNginx('1');
      log(`nginx ${facts.nginx} on core 1 at ${nginx.url} (one worker, access log off, keepalive_requests 1e9)`);
    } catch (e) {
      skipped.push(`nginx would not start (${(e as Error).message}): skipped ${needsNginx.join(', ')}`);
      log(`nginx would not start: ${(e as Error).message}`);
    }
  } else if (needsNginx.length) {
    skipped.push(`nginx missing: skipped ${needsNginx.join(', ')}`);
  }
  const stopAll = async () => {
    await nginx?.stop();
    nginx = undefined;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`\n${sig}: stopping nginx`);
      void stopAll().finally(() => process.exit(130));
    });
  }

  const results: BenchOutput['results'] = {};
  try {
    if (nginx && flags.only.has('closed')) results.closed = await closedThroughput(plan, nginx, { wrk: plan.hasWrk });
    const closedFl = results.closed?.median['faultline c50'];
    if (nginx && flags.only.has('open')) results.open = await openLimit(plan, nginx, Number.isFinite(closedFl) && closedFl ? closedFl : 60_000);
    if (nginx && flags.only.has('workers')) results.workers = await workers(plan, nginx);
    if (nginx && flags.only.has('agents')) results.agents = await agents(plan, nginx);
    const limit = results.open && Number.isFinite(results.open.limit) ? results.open.limit : 20_000;
    if (nginx && flags.only.has('memory')) results.memory = await memory(plan, nginx, Math.min(10_000, Math.round(limit / 2 / 500) * 500));
    if (flags.only.has('co')) results.co = await coordinatedOmission(plan);
    if (nginx && flags.only.has('rate')) results.rate = await rateAccuracy(plan, nginx, limit);
  } finally {
    await stopAll();
  }

  const loadAfter = loadAverage();
  const out = {
    version: 1,
    startedAt: started.toISOString(),
    endedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    plan: { ...plan, log: undefined },
    machine: { ...facts, loadBefore, loadAfter },
    tools,
    skipped,
    results,
  };
  const table = renderTable(out);
  process.stdout.write(`\n${table}\n`);
  const file = flags.out ?? join(ROOT, 'bench', 'results', `${started.toISOString().slice(0, 10)}${q ? '-quick' : ''}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(out, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
  log(`raw figures: ${file}`);
}

await main();
