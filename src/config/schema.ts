/**
 * The scenario as users write it (YAML, JSON, or `defineScenario` in TS/JS):
 * plain data, units as strings, unknown keys rejected. `normalize()` in
 * scenario.ts turns it into the resolved Scenario the coordinator runs.
 */
import { z } from 'zod';
import { zDuration, zPositiveDuration, zRate } from './units.ts';
import { builtInProfiles, profiles } from '../profiles/index.ts';

const isFn = (v: unknown): v is (...a: unknown[]) => unknown => typeof v === 'function';

/** What a request function (TS/JS scenarios) returns, per request, inside the worker. */
export interface RequestFnResult {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  json?: unknown;
}
export type RequestFn = (ctx: { seq: number; worker: number }) => RequestFnResult;

/** An HTTP header name: a token (RFC 9110), so no CR, LF, space or colon can split the request. */
export const zHeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name (letters, digits and !#$%&\'*+.^_`|~-, no spaces, colons or line breaks)');
/** A header value: no CR, LF or NUL (they would start another header or request). */
export const zHeaderValue = z.string().regex(/^[^\r\n\x00]*$/, 'expected a header value without line breaks (CR/LF) or NUL');

export const requestSchema = z.strictObject({
  name: z.string().min(1).optional(),
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, 'expected an HTTP method like "GET"')
    .transform((m) => m.toUpperCase())
    .optional(),
  path: z
    .string()
    .startsWith('/', 'expected a path starting with "/"')
    .regex(/^[^\s\x00-\x1f\x7f]*$/, 'expected a path without spaces or control characters (percent-encode them: %20, %0D%0A)')
    .optional(),
  url: z.string().optional(),
  headers: z.record(zHeaderName, z.union([zHeaderValue, z.number()])).optional(),
  body: z.string().optional(),
  json: z.unknown().optional(),
  weight: z.number().positive('expected a weight greater than zero').default(1),
  expect: z
    .strictObject({
      status: z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]).optional(),
      bodyIncludes: z.string().optional(),
    })
    .optional(),
  /** TS/JS only: a function building each request (per-request ids, tokens), run inside the workers. */
  request: z.custom<RequestFn>(isFn, 'expected a function').optional(),
});

export const engineSchema = z.strictObject({
  /** Load worker threads (default: cores − 1, at least 1). */
  workers: z.number().int().min(1).max(64).optional(),
  /** Connections across all workers (default 1024): undici opens them only as concurrency needs them. */
  connections: z.number().int().min(1).max(20_000).optional(),
  pipelining: z.number().int().min(1).max(1000).optional(),
  /**
   * Opt-in retries (default 0: nothing is sent twice): an idempotent request whose attempt fails at the
   * connection (connect_refused, connect_timeout, reset, closed) is sent again, at most this many times.
   * Every failed attempt stays in the errors by kind; the retries are counted apart.
   */
  retries: z.number().int().optional(),
  /** Per-request timeout (default 10s). */
  timeout: zPositiveDuration.optional(),
  /** Count 4xx responses as errors (default: counted apart, not errors). */
  errors4xx: z.boolean().optional(),
  /** https: trust the CA certificates in this PEM file (relative to the scenario file) instead of the system's. */
  ca: z.string().min(1).optional(),
  /** https: do not verify the target's certificate at all. */
  insecure: z.boolean().optional(),
});

/** `load` as a built-in profile takes it (what `defineScenario` checks). */
export type LoadInput = z.input<(typeof builtInProfiles)[number]['schema']>;

/**
 * `load`: `profile` names an entry of the profile table, whose own schema checks
 * the rest (looked up when a scenario is parsed, so a registered profile is
 * known without touching this file).
 */
const loadSchema = z.looseObject({ profile: z.string() }).transform((v, ctx) => {
  const type = profiles[v.profile];
  if (!type) {
    ctx.addIssue({ code: 'custom', path: ['profile'], message: `expected profile to be one of ${Object.keys(profiles).join(', ')}` });
    return z.NEVER;
  }
  const r = type.schema.safeParse(v);
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  return r.data;
});

export const baselineSchema = z.union([
  z.literal(false),
  z.strictObject({
    rate: zRate.optional(),
    duration: zPositiveDuration.optional(),
  }),
]);

/** Common keys of a fault; kind-specific keys are checked by the kind's own schema. */
export const faultCommonKeys = ['name', 'kind', 'target', 'at', 'atLoad', 'atStage', 'duration', 'probability', 'mayBreak', 'every', 'random', 'targets', 'pick', 'maxConcurrent', 'until'] as const;

export const faultSchema = z
  .looseObject({
    name: z.string().min(1).optional(),
    kind: z.string().min(1),
    target: z.string().min(1).optional(),
    at: zDuration.optional(),
    atLoad: zRate.optional(),
    atStage: z.number().int().min(0).optional(),
    duration: zPositiveDuration.optional(),
    probability: z.number().min(0).max(1).optional(),
    /**
     * This fault is expected to break the hypothesis: `true`, or the request names it may hurt
     * (its blast radius must stay within them). A breach it may cause is reported but does not fail the run.
     */
    mayBreak: z.union([z.boolean(), z.array(z.string().min(1)).min(1)]).optional(),
    /** Repeat: one occurrence every this long, from `at` (Chaos Monkey's period). */
    every: zPositiveDuration.optional(),
    /** Repeat: Poisson arrivals with this mean gap, from `at`. */
    random: z.strictObject({ mean: zPositiveDuration }).optional(),
    /** Repeat: each occurrence picks one of these targets. */
    targets: z.array(z.string().min(1)).min(1).optional(),
    pick: z.enum(['random', 'round-robin']).optional(),
    /** Repeat: occurrences active at once (default 1); one that would exceed it is skipped. */
    maxConcurrent: z.number().int().min(1).optional(),
    /** Repeat: no occurrence starts after this time. */
    until: zDuration.optional(),
  })
  .refine((f) => [f.at, f.atLoad, f.atStage].filter((v) => v !== undefined).length <= 1, {
    message: 'give one trigger: at, atLoad or atStage',
  })
  .refine((f) => !(f.every !== undefined && f.random !== undefined), { message: 'give one repeat: every or random, not both' })
  .refine((f) => (f.every === undefined && f.random === undefined) || (f.atLoad === undefined && f.atStage === undefined), {
    message: 'a repeating fault (every, random) starts from a time: use at, not atLoad or atStage',
  })
  .refine((f) => f.every !== undefined || f.random !== undefined || (f.targets === undefined && f.pick === undefined && f.maxConcurrent === undefined && f.until === undefined), {
    message: 'targets, pick, maxConcurrent and until belong to a repeating fault: add every or random',
  })
  .refine((f) => !(f.target !== undefined && f.targets !== undefined), { message: 'give target or targets, not both' });

/** Common keys of a probe; the kind's own keys are checked by its schema (src/probes). */
export const probeCommonKeys = ['kind', 'every', 'timeout'] as const;
export const probeSchema = z.looseObject({
  kind: z.string().min(1),
  /** Poll period (default: the window). */
  every: zPositiveDuration.optional(),
  /** Each poll's bound (default: the period, at most 5s). */
  timeout: zPositiveDuration.optional(),
});

export const scenarioSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  /** Base URL for request paths; loopback only. */
  target: z.string().optional(),
  /** The load the system is expected to carry, req/s; rates may be written as multiples of it ("1.5x"). */
  expectedPeak: zRate.optional(),
  requests: z.array(z.union([requestSchema, z.custom<RequestFn>(isFn, 'expected a request object or a function')])).min(1, 'expected at least one request'),
  load: loadSchema,
  baseline: baselineSchema.optional(),
  hypothesis: z.union([z.string(), z.array(z.string())]).optional(),
  stop: z.union([z.string(), z.array(z.string())]).optional(),
  /** Window length for stats and verdicts (default 1s, at least 100ms). */
  window: zPositiveDuration.optional(),
  /** Consecutive failing windows that make a breach (default 2); shorter runs are blips. */
  sustain: z.number().int().min(1).max(1000).optional(),
  /** Fewest requests a window needs to be judged (default 20). */
  minSamples: z.number().int().min(1).optional(),
  /** Exit 1 unless the hypothesis holds up to this rate ("1.5x" or req/s). */
  require: zRate.optional(),
  engine: engineSchema.optional(),
  services: z.record(z.string(), z.unknown()).optional(),
  proxies: z.record(z.string(), z.unknown()).optional(),
  faults: z.array(faultSchema).optional(),
  /** Probes polled once per window (or `every`), usable in hypothesis and stop clauses: `probe health`, `probe alarm fails`. */
  probes: z.record(z.string().regex(/^[A-Za-z0-9_\-.]+$/, 'expected a probe name of letters, digits, _ - .'), probeSchema).optional(),
  /** Seed for random choices (which replicas a fault kills). */
  seed: z.number().int().optional(),
});

export type ScenarioInput = Omit<z.input<typeof scenarioSchema>, 'load'> & { load: LoadInput };
export type ScenarioParsed = z.output<typeof scenarioSchema>;

/** Typed identity for TS scenarios: `export default defineScenario({ ... })`. */
export function defineScenario<T extends ScenarioInput>(s: T): T {
  return s;
}
