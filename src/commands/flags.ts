/**
 * The flag table, typed from the scenario (vitest's `CLIOptions<Config>`): every
 * scenario key that has a flag is declared here once, under its own key, so a
 * flag cannot name a key the scenario does not have. The flag's name is the
 * key in kebab-case unless it says otherwise; its value goes to that key.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { ScenarioInput } from '../config/schema.ts';
import type { LoadFlag, ProfileType } from '../profiles/types.ts';
import { UsageError } from '../errors.ts';
import { reporters } from '../report/index.ts';

/** One flag for one scenario key. */
export interface FlagSpec {
  description: string;
  /** `<rate>`: the flag takes a value; absent: a switch (true when given). */
  argument?: string;
  /** The text is a count, given to the scenario as a number (units stay text: the scenario parses them). */
  number?: boolean;
  /** Given more than once, the values make a list. */
  repeatable?: boolean;
  /** The flag's name, when it is not the key in kebab-case. */
  flag?: string;
  /** `--no-<flag>` too: it sets the key to false. */
  negatable?: string;
  /** The scenario value for what the flag gave (default: the value itself). */
  toValue?(v: unknown): unknown;
}

/** Flags for the keys of T; an object key may hold the flags of its own keys. */
export type FlagTable<T> = { [K in keyof T]?: NonNullable<T[K]> extends string | number | boolean | readonly unknown[] ? FlagSpec : FlagSpec | FlagTable<Exclude<NonNullable<T[K]>, boolean>> };

export const scenarioFlags: FlagTable<ScenarioInput> = {
  expectedPeak: { argument: '<rate>', description: 'the load the system is expected to carry, req/s' },
  hypothesis: { argument: '<clauses>', repeatable: true, description: 'e.g. "p99<250ms, errors<1%" (repeatable)' },
  stop: { argument: '<clause>', repeatable: true, description: 'abort when met, e.g. "errors > 50% for 5s" (repeatable)' },
  require: { argument: '<rate>', description: 'exit 1 unless the hypothesis holds up to this rate ("2x" or req/s); default: expected peak' },
  baseline: {
    argument: '<rate>',
    description: 'baseline stage rate (default 10% of expected peak when a hypothesis is given)',
    negatable: 'skip the baseline stage',
    toValue: (v) => (v === false ? false : { rate: v }),
  },
  engine: {
    workers: { argument: '<n>', number: true, description: 'load worker threads (default: cores − 1, at least 1)' },
    connections: { argument: '<n>', number: true, description: 'connections across all workers (default 1024, opened as needed)' },
    pipelining: { argument: '<n>', number: true, description: 'HTTP/1.1 pipelining depth per connection (default 1)' },
    timeout: { argument: '<duration>', description: 'per-request timeout (default 10s)' },
    retries: { argument: '<n>', number: true, description: 'retry idempotent requests that fail at the connection, at most n times (0-5, default 0; counted apart)' },
    errors4xx: { flag: 'errors-4xx', description: 'count 4xx responses as errors' },
    // A path on the command line is the shell's, not the scenario file's: made absolute here.
    ca: { argument: '<file>', description: "https: trust the CA certificate(s) in this PEM file instead of the system's", toValue: (v) => resolve(String(v)) },
    insecure: { description: "https: do not verify the target's certificate" },
  },
  window: { argument: '<duration>', description: 'stats and verdict window (default 1s, at least 100ms)' },
  sustain: { argument: '<n>', number: true, description: 'failing windows in a row that make a breach (default 2)' },
  minSamples: { argument: '<n>', number: true, description: 'fewest requests a window needs to be judged (default 20)' },
};

/** Flags of `load` keys; which profiles take each is read from the profile table. */
export const loadFlags: Record<LoadFlag, FlagSpec> = {
  rate: { argument: '<rate>', description: 'arrival rate: "2000", "2000rps" or "1.5x" of --expected-peak' },
  duration: { argument: '<duration>', description: 'run (or ramp) duration, e.g. "10s"' },
  from: { argument: '<rate>', description: 'first rate' },
  to: { argument: '<rate>', description: 'last (highest) rate' },
  steps: { argument: '<n>', number: true, description: 'number of stages' },
  increment: { argument: '<rate>', description: 'rate added per stage (instead of --steps)' },
  stepDuration: { argument: '<duration>', description: 'duration of each stage' },
  concurrency: { argument: '<n>', number: true, description: 'fixed number of concurrent requests' },
  precision: { argument: '<pct>', description: 'stop bisecting within this interval (default 2%)' },
};

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** One flag as commander takes it, with the attribute name its value lands on. */
function option(key: string, spec: FlagSpec, prefix = ''): Option {
  const name = spec.flag ?? kebab(key);
  const o = new Option(`--${name}${spec.argument ? ` ${spec.argument}` : ''}`, prefix + spec.description);
  if (spec.repeatable) o.argParser((v: string, prev: string[] = []) => [...prev, v]);
  return o;
}

/** Walks a flag table: each key's path in the scenario and its spec. */
function* entries(table: Record<string, unknown>, path: string[] = []): Generator<[string[], FlagSpec]> {
  for (const [k, v] of Object.entries(table)) {
    if (!v) continue;
    if (typeof (v as FlagSpec).description === 'string') yield [[...path, k], v as FlagSpec];
    else yield* entries(v as Record<string, unknown>, [...path, k]);
  }
}

const scenarioEntries = () => [...entries(scenarioFlags as Record<string, unknown>)];

/** Adds the scenario's flags and the load flags (each saying which profiles take it). */
export function addTableFlags(c: Command, profiles: readonly ProfileType[]): Command {
  for (const [key, spec] of Object.entries(loadFlags) as [LoadFlag, FlagSpec][]) {
    const takers = profiles.filter((p) => p.flags.includes(key)).map((p) => p.name);
    c.addOption(option(key, spec, takers.length ? `${takers.join('/')}: ` : ''));
  }
  for (const [path, spec] of scenarioEntries()) {
    c.addOption(option(path.at(-1)!, spec));
    if (spec.negatable) c.addOption(new Option(`--no-${spec.flag ?? kebab(path.at(-1)!)}`, spec.negatable));
  }
  return c;
}

const attribute = (key: string, spec: FlagSpec) => new Option(`--${spec.flag ?? kebab(key)}`).attributeName();

/** A flag's value as the scenario takes it; counts become numbers. */
function value(key: string, spec: FlagSpec, v: unknown): unknown {
  if (spec.number && typeof v === 'string') {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`--${spec.flag ?? kebab(key)}: expected a number, got ${JSON.stringify(v)}`);
    v = n;
  }
  return spec.toValue ? spec.toValue(v) : v;
}

/** The scenario keys the given flags set (only those given), nested as the scenario nests them. */
export function scenarioOverrides(opts: Record<string, unknown>): Partial<ScenarioInput> {
  const out: Record<string, unknown> = {};
  for (const [path, spec] of scenarioEntries()) {
    const key = path.at(-1)!;
    const v = opts[attribute(key, spec)];
    // A negatable flag's default (true when neither form was given) sets nothing.
    if (v === undefined || (spec.negatable && v === true)) continue;
    let o = out;
    for (const p of path.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[key] = value(key, spec, v);
  }
  return out as Partial<ScenarioInput>;
}

/**
 * The `load` the flags describe: `--profile`, or else the first profile one of
 * whose `impliedBy` flags was given and that takes every load flag given (or,
 * failing that, the first one implied). Undefined when no load flag was given.
 */
export function loadOverride(opts: Record<string, unknown>, profiles: readonly ProfileType[]): Record<string, unknown> | undefined {
  const given = (Object.keys(loadFlags) as LoadFlag[]).filter((k) => opts[attribute(k, loadFlags[k])] !== undefined);
  const implied = profiles.filter((p) => p.impliedBy?.some((k) => given.includes(k)));
  const name = (opts.profile as string | undefined) ?? (implied.find((p) => given.every((k) => p.flags.includes(k))) ?? implied[0])?.name;
  const type = profiles.find((p) => p.name === name);
  if (!type) return undefined;
  const load: Record<string, unknown> = { profile: type.name };
  for (const k of type.flags) {
    const v = opts[attribute(k, loadFlags[k])];
    if (v !== undefined) load[k] = value(k, loadFlags[k], v);
  }
  return load;
}

/** `--<reporter> <file>` for every reporter in the table (run and report). */
export function addOutputFlags(c: Command): Command {
  for (const r of Object.values(reporters)) c.option(`--${r.name} <file>`, r.describe);
  return c;
}
