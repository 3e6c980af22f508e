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
import { profiles } from '../profiles/index.ts';
import { addTableFlags, loadOverride, scenarioOverrides } from './flags.ts';

/** Flags that are not scenario keys: an ad-hoc target, and the profile by name. The rest come from the flag table (flags.ts). */
export interface ScenarioFlags {
  url?: string;
  method?: string;
  header?: string[];
  body?: string;
  profile?: string;
  /** Not a scenario key: how long a .ts/.js scenario module may take to load. */
  loadTimeout?: string;
  [flag: string]: unknown;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addScenarioFlags(c: Command): Command {
  const known = Object.values(profiles);
  c.option('--url <url>', 'ad-hoc target URL (loopback only), instead of a scenario file')
    .option('--method <method>', 'HTTP method for --url (default GET)')
    .option('--header <name:value>', 'request header for --url (repeatable)', collect)
    .option('--body <text>', 'request body for --url')
    .addOption(new Option('--profile <name>', 'load profile').choices(known.map((p) => p.name)))
    .option('--load-timeout <duration>', 'bound on loading a .ts/.js scenario module (default 10s)');
  return addTableFlags(c, known);
}

const dropUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The scenario a command runs: from a file (flags override), or ad hoc from --url and profile flags. */
export async function resolveScenario(file: string | undefined, f: ScenarioFlags): Promise<Scenario> {
  const overrides = scenarioOverrides(f);
  const load = loadOverride(f, Object.values(profiles));
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
