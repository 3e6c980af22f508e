/**
 * Flags shared by `run` and `validate`, and the mapping from flags to a
 * scenario: ad-hoc runs (`--url ... --rate ...`) build the same scenario object
 * a file would hold, and flags given with a file override its keys.
 */
import { Option, type Command } from 'commander';
import type { ScenarioInput } from '../config/schema.ts';
import { loadScenarioFile, normalize, type Scenario } from '../config/scenario.ts';
import { UsageError } from '../errors.ts';
import { parseDuration } from '../config/units.ts';

export interface ScenarioFlags {
  url?: string;
  method?: string;
  header?: string[];
  body?: string;
  profile?: string;
  rate?: string;
  duration?: string;
  from?: string;
  to?: string;
  steps?: string;
  increment?: string;
  stepDuration?: string;
  concurrency?: string;
  precision?: string;
  expectedPeak?: string;
  hypothesis?: string[];
  stop?: string[];
  require?: string;
  baseline?: string | boolean;
  workers?: string;
  connections?: string;
  pipelining?: string;
  timeout?: string;
  window?: string;
  sustain?: string;
  minSamples?: string;
  errors4xx?: boolean;
  loadTimeout?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addScenarioFlags(c: Command): Command {
  return c
    .option('--url <url>', 'ad-hoc target URL (loopback only), instead of a scenario file')
    .option('--method <method>', 'HTTP method for --url (default GET)')
    .option('--header <name:value>', 'request header for --url (repeatable)', collect)
    .option('--body <text>', 'request body for --url')
    .addOption(new Option('--profile <name>', 'load profile').choices(['constant', 'steps', 'ramp', 'closed', 'search']))
    .option('--rate <rate>', 'constant arrival rate: "2000", "2000rps" or "1.5x" of --expected-peak')
    .option('--duration <duration>', 'run (or ramp) duration, e.g. "10s"')
    .option('--from <rate>', 'steps/ramp/search: first rate')
    .option('--to <rate>', 'steps/ramp/search: last (highest) rate')
    .option('--steps <n>', 'steps: number of stages')
    .option('--increment <rate>', 'steps: rate added per stage (instead of --steps)')
    .option('--step-duration <duration>', 'steps: duration of each stage')
    .option('--concurrency <n>', 'closed model: fixed number of concurrent requests')
    .option('--precision <pct>', 'search: stop bisecting within this interval (default 2%)')
    .option('--expected-peak <rate>', 'the load the system is expected to carry, req/s')
    .option('--hypothesis <clauses>', 'e.g. "p99<250ms, errors<1%" (repeatable)', collect)
    .option('--stop <clause>', 'abort when met, e.g. "errors > 50% for 5s" (repeatable)', collect)
    .option('--require <rate>', 'exit 1 unless the hypothesis holds up to this rate ("2x" or req/s); default: expected peak')
    .option('--baseline <rate>', 'baseline stage rate (default 10% of expected peak when a hypothesis is given)')
    .option('--no-baseline', 'skip the baseline stage')
    .option('--workers <n>', 'load worker threads (default: cores − 1, at least 1)')
    .option('--connections <n>', 'connections across all workers (default 1024, opened as needed)')
    .option('--pipelining <n>', 'HTTP/1.1 pipelining depth per connection (default 1)')
    .option('--timeout <duration>', 'per-request timeout (default 10s)')
    .option('--window <duration>', 'stats and verdict window (default 1s, at least 100ms)')
    .option('--sustain <n>', 'failing windows in a row that make a breach (default 2)')
    .option('--min-samples <n>', 'fewest requests a window needs to be judged (default 20)')
    .option('--errors-4xx', 'count 4xx responses as errors')
    .option('--load-timeout <duration>', 'bound on loading a .ts/.js scenario module (default 10s)');
}

const num = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got ${JSON.stringify(v)}`);
  return n;
};

/** Flags → the scenario keys they set (only those given). */
function flagOverrides(f: ScenarioFlags): Partial<ScenarioInput> {
  const o: Record<string, unknown> = {};
  if (f.expectedPeak !== undefined) o.expectedPeak = f.expectedPeak;
  if (f.hypothesis) o.hypothesis = f.hypothesis;
  if (f.stop) o.stop = f.stop;
  if (f.require !== undefined) o.require = f.require;
  if (f.baseline === false) o.baseline = false;
  else if (typeof f.baseline === 'string') o.baseline = { rate: f.baseline };
  if (f.window !== undefined) o.window = f.window;
  if (f.sustain !== undefined) o.sustain = num(f.sustain, '--sustain');
  if (f.minSamples !== undefined) o.minSamples = num(f.minSamples, '--min-samples');
  const engine: Record<string, unknown> = {};
  if (f.workers !== undefined) engine.workers = num(f.workers, '--workers');
  if (f.connections !== undefined) engine.connections = num(f.connections, '--connections');
  if (f.pipelining !== undefined) engine.pipelining = num(f.pipelining, '--pipelining');
  if (f.timeout !== undefined) engine.timeout = f.timeout;
  if (f.errors4xx) engine.errors4xx = true;
  if (Object.keys(engine).length) o.engine = engine;
  return o as Partial<ScenarioInput>;
}

function loadFromFlags(f: ScenarioFlags): Record<string, unknown> | undefined {
  const has = (k: keyof ScenarioFlags) => f[k] !== undefined;
  const profile =
    f.profile ?? (has('concurrency') ? 'closed' : has('steps') || has('increment') || has('stepDuration') ? 'steps' : has('from') || has('to') ? 'ramp' : has('rate') ? 'constant' : undefined);
  switch (profile) {
    case undefined:
      return undefined;
    case 'constant':
      return { profile, rate: f.rate, duration: f.duration };
    case 'steps':
      return { profile, from: f.from, to: f.to, steps: num(f.steps, '--steps'), increment: f.increment, stepDuration: f.stepDuration };
    case 'ramp':
      return { profile, from: f.from, to: f.to, duration: f.duration };
    case 'closed':
      return { profile, concurrency: num(f.concurrency, '--concurrency'), duration: f.duration };
    case 'search':
      return { profile, from: f.from, to: f.to, precision: f.precision };
  }
  return undefined;
}

const dropUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The scenario a command runs: from a file (flags override), or ad hoc from --url and profile flags. */
export async function resolveScenario(file: string | undefined, f: ScenarioFlags): Promise<Scenario> {
  const overrides = flagOverrides(f);
  const load = loadFromFlags(f);
  if (file) {
    if (f.url !== undefined) throw new UsageError('give a scenario file or --url, not both');
    const o = { ...overrides } as Record<string, unknown>;
    if (load) o.load = dropUndefined(load);
    let loadTimeoutMs: number | undefined;
    if (f.loadTimeout !== undefined) {
      loadTimeoutMs = parseDuration(f.loadTimeout);
      if (!(loadTimeoutMs! > 0)) throw new UsageError(`--load-timeout: expected a duration like "30s", got ${JSON.stringify(f.loadTimeout)}`);
    }
    return loadScenarioFile(file, o as Partial<ScenarioInput>, { loadTimeoutMs });
  }
  if (f.url === undefined) throw new UsageError('nothing to run: give a scenario file, or --url with a rate (e.g. faultline run --url http://127.0.0.1:3000/ --rate 2000 --duration 10s)');
  if (!load) throw new UsageError('--url needs a load: --rate with --duration, --from/--to with --steps and --step-duration, or --concurrency with --duration');
  let u: URL;
  try {
    u = new URL(f.url);
  } catch {
    throw new UsageError(`--url: expected an http:// URL, got ${JSON.stringify(f.url)}`);
  }
  const headers: Record<string, string> = {};
  for (const h of f.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header: expected "name: value", got ${JSON.stringify(h)}`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const input = {
    name: `${(f.method ?? 'GET').toUpperCase()} ${f.url}`,
    target: `${u.protocol}//${u.host}`,
    requests: [dropUndefined({ name: `${(f.method ?? (f.body !== undefined ? 'POST' : 'GET')).toUpperCase()} ${u.pathname}`, method: f.method, path: u.pathname + u.search, headers: f.header ? headers : undefined, body: f.body })],
    load: dropUndefined(load),
    ...overrides,
  };
  if (!/^https?:$/.test(u.protocol)) throw new UsageError(`--url: expected an http:// URL, got ${JSON.stringify(f.url)}`);
  return normalize(input as unknown as ScenarioInput);
}
