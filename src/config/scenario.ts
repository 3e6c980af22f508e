/**
 * Scenario loading and normalisation: read a file (TS/JS/JSON/YAML) or take an
 * object, validate it, report *every* problem with its path, and resolve it
 * into the Scenario the coordinator runs (ms, req/s, fractions, parsed clauses).
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { dirname, extname, resolve } from 'node:path';
import { cpus } from 'node:os';
import YAML from 'yaml';
import { UsageError } from '../errors.ts';
import { scenarioSchema, faultCommonKeys, probeCommonKeys, type ScenarioInput, type ScenarioParsed } from './schema.ts';
import { isLoopbackHost, parseDuration, resolveRate, type RateSpec } from './units.ts';
import { profiles } from '../profiles/index.ts';
import type { Profile, RateResolver, StagePlan } from '../profiles/types.ts';
import { openStage, fmtRate } from '../profiles/types.ts';
import { parseClause, splitClauses, type Clause } from '../hypothesis/parse.ts';
import type { WireRequest } from '../engine/messages.ts';
import type { EngineSettings } from '../engine/engine.ts';
import { IDEMPOTENT, isIdempotent } from '../engine/retry.ts';
import type { FaultSpecBase } from '../faults/types.ts';
import { faultKinds } from '../faults/index.ts';
import { probeKinds } from '../probes/index.ts';
import type { ProbeSpec } from '../probes/types.ts';
import { expandRepeats, plannedRunMs, type FaultSchedule, type RepeatSpec } from '../faults/schedule.ts';
import { missingForHosts } from '../hosts/tools.ts';
import { proxyModeFits } from '../faults/kinds/proxy.ts';
import { loadModule, withLoadTimeout, describeLoadError, LoadError, DEFAULT_LOAD_TIMEOUT_MS } from './loadModule.ts';
import { formatIssues } from './issues.ts';
import { parseProxies, parseServices } from './parts.ts';
import type { ServiceSpec } from '../services/schema.ts';
import type { ProxySpec } from '../proxy/schema.ts';

/** The scenario's `engine` keys, resolved: the engine's own settings type. */
export type EngineOptions = EngineSettings;

/** A validated, resolved scenario. */
export interface Scenario {
  name: string;
  file?: string;
  /** Origin every request goes to (loopback). */
  target: string;
  expectedPeak?: number;
  requests: WireRequest[];
  requestNames: string[];
  profileName: string;
  /** A fresh profile for one run (adaptive profiles keep state). */
  makeProfile(): Profile;
  baseline?: StagePlan;
  hypothesis: Clause[];
  stop: Clause[];
  windowMs: number;
  sustain: number;
  minSamples: number;
  require?: number;
  engine: EngineOptions;
  /** Managed services, validated and typed (defaults filled). */
  services: Record<string, ServiceSpec>;
  /** Fault proxies, validated and typed. */
  proxies: Record<string, ProxySpec>;
  faults: FaultSpecBase[];
  /** Probes polled during the run (scenario `probes`). */
  probes: ProbeSpec[];
  /** Repeating faults as planned: their occurrences are in `faults` (as `name #k`). */
  schedules: FaultSchedule[];
  seed: number;
  /** Things that are valid but will not do what they seem to (a fault after the run's end), one line each. */
  warnings: string[];
}

export const DEFAULTS = {
  connections: 1024,
  pipelining: 1,
  timeoutMs: 10_000,
  windowMs: 1000,
  sustain: 2,
  minSamples: 20,
  baselineMs: 5000,
  baselineFraction: 0.1,
} as const;

/** Most retries of one request (`engine.retries`). */
export const MAX_RETRIES = 5;

export const defaultWorkers = () => Math.max(1, cpus().length - 1);

/** Most distinct request names in one scenario: each keeps its own histograms in every window. */
export const MAX_REQUEST_NAMES = 500;

/** Largest scenario file read (bytes); FAULTLINE_MAX_SCENARIO_BYTES changes it. */
export const MAX_SCENARIO_BYTES = 5 * 1024 * 1024;

export interface LoadOptions {
  /** Bound on loading a TS/JS module, its top-level awaits and default export included (default 10 s; FAULTLINE_LOAD_TIMEOUT). */
  loadTimeoutMs?: number;
}

function envNumber(name: string, parse: (v: string) => number | undefined): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = parse(v);
  if (n === undefined || !(n > 0)) throw new UsageError(`${name}: expected a positive ${name.endsWith('TIMEOUT') ? 'duration like "30s"' : 'number'}, got ${JSON.stringify(v)}`);
  return n;
}

/** Reads and validates a scenario file. Every problem is a UsageError line. */
export async function loadScenarioFile(file: string, overrides: Partial<ScenarioInput> = {}, opts: LoadOptions = {}): Promise<Scenario> {
  const abs = resolve(file);
  const ext = extname(abs).toLowerCase();
  const isData = ext === '.yaml' || ext === '.yml' || ext === '.json';
  const isModule = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'].includes(ext);
  if (!isData && !isModule) throw new UsageError(`${file}: unknown scenario type "${ext || '(none)'}": use .ts, .js, .mjs, .json, .yaml or .yml`);
  // Size first, before reading: a 50 MB YAML file would take seconds to parse.
  let size: number;
  try {
    const st = await stat(abs);
    if (!st.isFile()) throw new UsageError(`cannot read scenario ${file}: not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read scenario ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const maxBytes = envNumber('FAULTLINE_MAX_SCENARIO_BYTES', (v) => (/^\d+$/.test(v) ? Number(v) : undefined)) ?? MAX_SCENARIO_BYTES;
  if (size > maxBytes) {
    throw new UsageError(`${file}: ${(size / 1048576).toFixed(1)} MB is over the ${(maxBytes / 1048576).toFixed(1)} MB limit for a scenario file (raise it with FAULTLINE_MAX_SCENARIO_BYTES)`);
  }
  let raw: unknown;
  if (isData) {
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read scenario ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    try {
      raw = ext === '.json' ? JSON.parse(text) : YAML.parse(text, { prettyErrors: false });
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      throw new UsageError(`${file}: invalid ${ext === '.json' ? 'JSON' : 'YAML'}: ${msg}`);
    }
  } else {
    const timeoutMs = opts.loadTimeoutMs ?? envNumber('FAULTLINE_LOAD_TIMEOUT', parseDuration) ?? DEFAULT_LOAD_TIMEOUT_MS;
    try {
      raw = await withLoadTimeout(
        (async () => {
          const mod = await loadModule(abs);
          const v = mod.default ?? mod.scenario;
          // An async default export (a promise of the scenario) is awaited, within the same bound.
          return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function' ? await (v as Promise<unknown>) : v;
        })(),
        timeoutMs,
        file,
      );
    } catch (e) {
      if (e instanceof LoadError && /did not finish loading/.test(e.message)) throw new UsageError(e.message);
      throw new UsageError(`${file}: cannot load: ${e instanceof LoadError ? e.message : describeLoadError(e)}`);
    }
    if (raw === undefined) throw new UsageError(`${file}: expected \`export default defineScenario({...})\``);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${file}: expected a scenario object at the top level`);
  return normalize({ ...(raw as object), ...stripUndefined(overrides) } as ScenarioInput, abs);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validates and resolves a scenario object (as written) into a Scenario. */
export function normalize(input: ScenarioInput, file?: string): Scenario {
  // A file with none of the three keys a run needs (only `baseline:`, say) gets one line that says so.
  const raw = input as unknown as Record<string, unknown> | null;
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && ['target', 'requests', 'load'].every((k) => raw[k] === undefined)) {
    throw new UsageError(
      `${Object.keys(raw).length ? `this scenario has only ${Object.keys(raw).join(', ')}: ` : 'the scenario is empty: '}a run needs target, requests and load, e.g. target: "http://127.0.0.1:8080", requests: [{ path: / }], load: { profile: constant, rate: 100, duration: 10s }`,
    );
  }
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(formatIssues(parsed.error.issues));
  const s: ScenarioParsed = parsed.data;
  const problems: string[] = [];

  const expectedPeak = s.expectedPeak === undefined ? undefined : resolveRate(s.expectedPeak, undefined);
  if (s.expectedPeak !== undefined && expectedPeak === undefined) problems.push('expectedPeak: expected an absolute rate like "400", not a multiple');
  const rate: RateResolver = (r: RateSpec, path: string) => {
    const v = resolveRate(r, expectedPeak);
    if (v === undefined) {
      problems.push(`${path}: "${(r as { x: number }).x}x" is a multiple of expectedPeak, but the scenario has no expectedPeak`);
      return NaN;
    }
    return v;
  };

  // Target and requests: one origin, loopback only.
  let origin: string | undefined;
  let basePath = '';
  if (s.target !== undefined) {
    const t = checkUrl(s.target, 'target', problems);
    if (t) {
      origin = t.origin;
      basePath = t.pathname.replace(/\/$/, '');
    }
  }
  const requests: WireRequest[] = [];
  s.requests.forEach((r, i) => {
    const at = `requests[${i}]`;
    if (typeof r === 'function') {
      if (!origin) problems.push(`${at}: a request function needs a scenario target`);
      requests.push({ name: `request${i + 1}`, method: 'GET', path: basePath || '/', headers: {}, weight: 1, fnIndex: i });
      return;
    }
    let path = r.path;
    if (r.url !== undefined) {
      const u = checkUrl(r.url, `${at}.url`, problems);
      if (u) {
        if (origin === undefined) origin = u.origin;
        else if (u.origin !== origin) problems.push(`${at}.url: every request must go to the same origin (${origin}); got ${u.origin}`);
        path = u.pathname + u.search;
      }
    } else if (path !== undefined) {
      path = basePath + path;
    } else if (!r.request) {
      problems.push(`${at}: expected a path (with a scenario target) or a url`);
    }
    if (r.path !== undefined && r.url !== undefined) problems.push(`${at}: give path or url, not both`);
    if (r.body !== undefined && r.json !== undefined) problems.push(`${at}: give body or json, not both`);
    const method = r.method ?? (r.body !== undefined || r.json !== undefined ? 'POST' : 'GET');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
    let body = r.body;
    if (r.json !== undefined) {
      body = JSON.stringify(r.json);
      headers['content-type'] ??= 'application/json';
    }
    const st = r.expect?.status;
    requests.push({
      name: r.name ?? `${method} ${path ?? '/'}`,
      method,
      path: path ?? (basePath || '/'),
      headers,
      body,
      weight: r.weight,
      expectStatus: st === undefined ? undefined : Array.isArray(st) ? st : [st],
      bodyIncludes: r.expect?.bodyIncludes,
      fnIndex: r.request ? i : undefined,
    });
  });
  if (origin === undefined && !problems.some((p) => p.startsWith('target'))) problems.push('target: expected the base URL of the system under test, e.g. "http://127.0.0.1:8080"');
  // One name, one set of histograms: two requests with the same name would be merged unseen.
  const firstWithName = new Map<string, number>();
  requests.forEach((r, i) => {
    const j = firstWithName.get(r.name);
    if (j === undefined) firstWithName.set(r.name, i);
    else problems.push(`requests[${i}].name: "${r.name}" is also the name of requests[${j}]; give each request its own name (stats are kept per name)`);
  });
  const requestNames = [...firstWithName.keys()];
  if (requestNames.length > MAX_REQUEST_NAMES) {
    problems.push(`requests: ${requestNames.length} request names is over the limit of ${MAX_REQUEST_NAMES} (each name keeps its own latency histograms in every window); group requests under fewer names`);
  }

  // Load profile (validated now so rate problems are reported with the rest).
  const loadCfg = s.load;
  const profileType = profiles[loadCfg.profile];
  const build = (): Profile => profileType.create(loadCfg, rate);
  const probe = build();
  const first = probe.next();

  // Baseline: proves the hypothesis at low load before anything is pushed.
  let baseline: StagePlan | undefined;
  const hypothesisRaw = splitClauses(s.hypothesis);
  const wantBaseline = s.baseline !== undefined ? s.baseline !== false : hypothesisRaw.length > 0 && first?.model !== 'closed';
  if (wantBaseline && s.baseline !== false) {
    const b = s.baseline ?? {};
    let r: number;
    if (b.rate !== undefined) r = rate(b.rate, 'baseline.rate');
    else if (expectedPeak !== undefined) r = expectedPeak * DEFAULTS.baselineFraction;
    else r = (first?.rateFrom ?? 0) * DEFAULTS.baselineFraction;
    if (first?.model === 'closed' && b.rate === undefined) problems.push('baseline.rate: a closed-model run needs an explicit baseline rate');
    if (Number.isFinite(r) && r > 0) baseline = openStage(`baseline ${fmtRate(r)} req/s`, r, r, b.duration ?? DEFAULTS.baselineMs, 'baseline');
  }

  // Hypothesis and stop clauses: a typo must never turn a gate green.
  const hypothesis: Clause[] = [];
  // Probes: common keys here, the kind's own keys by its schema.
  const windowMsForProbes = s.window ?? DEFAULTS.windowMs;
  const probes: ProbeSpec[] = [];
  for (const [name, pr] of Object.entries(s.probes ?? {})) {
    const at = `probes.${name}`;
    const kind = probeKinds[pr.kind];
    if (!kind) {
      problems.push(`${at}.kind: unknown probe kind "${pr.kind}" (known: ${Object.keys(probeKinds).sort().join(', ')})`);
      continue;
    }
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(pr)) if (!(probeCommonKeys as readonly string[]).includes(k)) rest[k] = v;
    const parsed = kind.params.safeParse(rest);
    if (!parsed.success) {
      problems.push(...formatIssues(parsed.error.issues, ['probes', name]));
      continue;
    }
    const everyMs = pr.every ?? windowMsForProbes;
    probes.push({ name, kind: pr.kind, everyMs, timeoutMs: pr.timeout ?? Math.min(everyMs, 5000), params: parsed.data as Record<string, unknown> });
  }
  const probeNames = Object.keys(s.probes ?? {});
  const clauseProblem = (p: Clause): string | undefined => {
    if (p.metric.type === 'probe' && !probeNames.includes(p.metric.probe)) return `no probe is named "${p.metric.probe}" (probes: ${probeNames.join(', ') || 'none declared'})`;
    if (p.scope !== undefined && !requestNames.includes(p.scope)) return `no request is named "${p.scope}" (requests: ${requestNames.join(', ')})`;
    return undefined;
  };
  hypothesisRaw.forEach((c, i) => {
    const p = parseClause(c);
    const why = typeof p === 'string' ? p : clauseProblem(p);
    if (why !== undefined) problems.push(`hypothesis[${i}]: ${why}`);
    else hypothesis.push(p as Clause);
  });
  const stop: Clause[] = [];
  splitClauses(s.stop).forEach((c, i) => {
    const p = parseClause(c, { allowFor: true });
    const why = typeof p === 'string' ? p : clauseProblem(p);
    if (why !== undefined) problems.push(`stop[${i}]: ${why}`);
    else stop.push(p as Clause);
  });

  // Services and proxies: validated by their own modules' schemas.
  const parsedServices = parseServices(s.services ?? {});
  const parsedProxies = parseProxies(s.proxies ?? {});
  problems.push(...parsedServices.problems, ...parsedProxies.problems);
  // Names as written, so a fault naming an entry with a problem is not reported twice.
  const services: Record<string, unknown> = s.services ?? {};
  const proxies: Record<string, unknown> = s.proxies ?? {};
  const hosted = Object.keys(parsedServices.specs).filter((k) => parsedServices.specs[k].host !== undefined);
  if (hosted.length) {
    // Found before any load is sent: the namespaces need root and these programs.
    const missing = missingForHosts();
    if (missing) problems.push(`services.${hosted[0]}.host: a service on its own host (network namespace) needs ${missing}`);
  }

  // Faults: common keys here, kind-specific keys by the kind's schema.
  const faults: FaultSpecBase[] = [];
  const repeating: { index: number; repeat: RepeatSpec }[] = [];
  const names = new Set<string>();
  const namedAt = new Map<string, string>();
  (s.faults ?? []).forEach((f, i) => {
    const at = `faults[${i}]`;
    const kind = faultKinds[f.kind];
    if (!kind) {
      problems.push(`${at}.kind: unknown fault kind "${f.kind}" (known: ${Object.keys(faultKinds).sort().join(', ')})`);
      return;
    }
    // A repeating fault may pick among several targets: each is checked as a `target` would be.
    const candidates = f.targets ?? [f.target];
    for (const [j, t] of candidates.entries()) {
      const where = f.targets ? `${at}.targets[${j}]` : `${at}.target`;
      const isProxy = t !== undefined && t in proxies;
      const isService = t !== undefined && t in services;
      if (kind.targets === 'proxy' && !isProxy) problems.push(`${where}: expected the name of a declared proxy (${Object.keys(proxies).join(', ') || 'none declared'}), got ${JSON.stringify(t)}`);
      if (kind.targets === 'host' && !(isService && hosted.includes(t!))) {
        problems.push(`${where}: "${f.kind}" acts on a service running as its own host (\`host: own\`): ${hosted.join(', ') || 'none declared'}; got ${JSON.stringify(t)}`);
      }
      if (kind.targets === 'service' && !isService) problems.push(`${where}: expected the name of a declared service (${Object.keys(services).join(', ') || 'none declared'}), got ${JSON.stringify(t)}`);
      if (kind.targets === 'service-or-pid' && t !== undefined && !isService) problems.push(`${where}: expected the name of a declared service (${Object.keys(services).join(', ') || 'none declared'}), got ${JSON.stringify(t)}`);
      const mode = kind.proxyMode;
      if (isProxy && mode && mode !== 'any') {
        const pm = parsedProxies.specs[t!]?.mode ?? 'tcp';
        if (!proxyModeFits(mode, pm)) problems.push(`${at}.kind: "${f.kind}" needs a ${mode} proxy; proxies.${t} is ${pm} (set mode: ${mode})`);
      }
      if (kind.targets === 'any' && t !== undefined && !isService && !isProxy) problems.push(`${where}: expected a declared proxy or service, got ${JSON.stringify(t)}`);
    }
    if (Array.isArray(f.mayBreak)) for (const [j, n] of f.mayBreak.entries()) if (!requestNames.includes(n)) problems.push(`${at}.mayBreak[${j}]: no request is named "${n}" (requests: ${requestNames.join(', ')})`);
    const t = f.target;
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(f)) if (!(faultCommonKeys as readonly string[]).includes(k)) rest[k] = v;
    const pr = kind.params.safeParse(rest);
    if (!pr.success) {
      problems.push(...formatIssues(pr.error.issues, ['faults', i]));
      return;
    }
    let name = f.name ?? `${f.kind}${t ? ` ${t}` : ''}`;
    // Events, the fault table and the journal name faults: two the user named alike could not be told apart.
    if (f.name !== undefined && names.has(name)) problems.push(`${at}.name: "${name}" is also the name of ${namedAt.get(name)}; give each fault its own name`);
    for (let n = 2; names.has(name); n++) name = `${f.name ?? f.kind} #${n}`;
    names.add(name);
    namedAt.set(name, at);
    if (f.every !== undefined || f.random !== undefined) {
      repeating.push({
        index: faults.length,
        repeat: { everyMs: f.every, meanMs: f.random?.mean, targets: f.targets, pick: f.pick ?? 'random', maxConcurrent: f.maxConcurrent ?? 1, untilMs: f.until },
      });
    }
    faults.push({
      name,
      kind: f.kind,
      target: t,
      at: f.at,
      atLoad: f.atLoad === undefined ? undefined : rate(f.atLoad, `${at}.atLoad`),
      atStage: f.atStage,
      duration: f.duration,
      probability: f.probability,
      ...(f.mayBreak === true || Array.isArray(f.mayBreak) ? { mayBreak: f.mayBreak } : {}),
      params: pr.data,
    });
  });

  // Repeating faults become their planned occurrences (same seed, same schedule).
  const seed = s.seed ?? 1;
  const schedules: FaultSchedule[] = [];
  if (repeating.length && !problems.length) {
    const horizonMs = plannedRunMs(build, probe.budgetMs);
    const expanded = expandRepeats(faults, repeating, { horizonMs, seed });
    faults.splice(0, faults.length, ...expanded.faults);
    schedules.push(...expanded.schedules);
  }

  // Rates that did not resolve were reported above: here they are NaN and compare false.
  problems.push(...(profileType.check?.(loadCfg, (r) => resolveRate(r, expectedPeak) ?? NaN) ?? []));

  const engine: EngineOptions = {
    workers: s.engine?.workers ?? defaultWorkers(),
    connections: s.engine?.connections ?? DEFAULTS.connections,
    pipelining: s.engine?.pipelining ?? DEFAULTS.pipelining,
    retries: s.engine?.retries ?? 0,
    timeoutMs: s.engine?.timeout ?? DEFAULTS.timeoutMs,
    errors4xx: s.engine?.errors4xx ?? false,
    tls: trustOptions(s.engine?.ca, s.engine?.insecure, file, origin, problems),
  };
  if (engine.retries! < 0 || engine.retries! > MAX_RETRIES) problems.push(`engine.retries: expected an integer from 0 to ${MAX_RETRIES}, got ${engine.retries}`);
  if (engine.connections < engine.workers) problems.push(`engine.connections: ${engine.connections} is fewer than the ${engine.workers} workers; each worker needs one`);
  const windowMs = s.window ?? DEFAULTS.windowMs;
  if (windowMs < 100) problems.push(`window: expected at least 100ms, got ${windowMs}ms`);
  const requireRate = s.require === undefined ? undefined : rate(s.require, 'require');

  if (problems.length) throw new UsageError(problems);
  const warnings = faultWarnings(faults, build, probe.budgetMs, baseline);
  if (engine.retries! > 0 && !requests.some((r) => r.fnIndex !== undefined || isIdempotent(r.method))) {
    warnings.push(`retries ${engine.retries} has no effect: only idempotent methods (${[...IDEMPOTENT].join(', ')}) are retried, and every request here is ${[...new Set(requests.map((r) => r.method))].join('/')}`);
  }
  const maxConcurrency = closedConcurrency(build);
  if (maxConcurrency > 0 && engine.pipelining > 1 && maxConcurrency <= engine.connections) {
    // wrk's and autocannon's -c is connections; here concurrency is requests in flight, and a slot uses a fresh connection first.
    const c = maxConcurrency;
    warnings.push(
      `pipelining ${engine.pipelining} has no effect: concurrency ${c} counts requests in flight in all (not connections, as -c does in wrk and autocannon), and with ${engine.connections} connections available each carries one request; for ${c} connections with ${engine.pipelining} requests pipelined on each, set concurrency ${c * engine.pipelining}, connections ${c}, pipelining ${engine.pipelining}`,
    );
  }
  return {
    name: s.name ?? (file ? file.replace(/^.*\//, '') : 'ad-hoc run'),
    file,
    target: origin!,
    expectedPeak,
    requests,
    requestNames,
    profileName: loadCfg.profile,
    makeProfile: build,
    baseline,
    hypothesis,
    stop,
    windowMs,
    sustain: s.sustain ?? DEFAULTS.sustain,
    minSamples: s.minSamples ?? DEFAULTS.minSamples,
    require: requireRate,
    engine,
    services: parsedServices.specs,
    proxies: parsedProxies.specs,
    faults,
    schedules,
    probes,
    seed,
    warnings,
  };
}

const secs = (ms: number) => `${+(ms / 1000).toFixed(ms % 1000 ? 1 : 0)}s`;

/** Faults that cannot fire (or last) within the planned run: said before anything runs, never silently skipped. */
function faultWarnings(faults: FaultSpecBase[], build: () => Profile, adaptiveBudgetMs: number | undefined, baseline: StagePlan | undefined): string[] {
  const out: string[] = [];
  const p = build();
  const stages: StagePlan[] = [];
  if (!p.adaptive) for (let st = p.next(); st; st = p.next()) stages.push(st);
  const loadMs = plannedRunMs(build, adaptiveBudgetMs);
  const after = baseline ? ' (time triggers count from the end of the baseline)' : '';
  const top = Math.max(0, ...stages.filter((st) => st.model === 'open').map((st) => Math.max(st.rateFrom, st.rateTo)));
  for (const f of faults) {
    const who = `fault "${f.name}"`;
    if (f.at !== undefined && f.at >= loadMs) out.push(`${who}: at ${secs(f.at)} is at or after the planned end of the load (${secs(loadMs)})${after}: it will never fire`);
    else if (f.at !== undefined && f.duration !== undefined && f.at + f.duration > loadMs) out.push(`${who}: ends at ${secs(f.at + f.duration)}, after the planned end of the load (${secs(loadMs)}): it will be undone early, at the run's end`);
    if (!p.adaptive && f.atStage !== undefined && f.atStage >= stages.length + (baseline ? 1 : 0)) out.push(`${who}: atStage ${f.atStage} does not exist (the run has ${stages.length + (baseline ? 1 : 0)} stages, counted from 0${baseline ? ' with the baseline as 0' : ''}): it will never fire`);
    if (!p.adaptive && f.atLoad !== undefined && stages.length && stages.every((st) => st.model === 'open') && f.atLoad > top + 1e-9) out.push(`${who}: atLoad ${fmtRate(f.atLoad)} req/s is above the highest planned rate (${fmtRate(top)} req/s): it will never fire`);
  }
  return out;
}

/** `engine.ca` / `engine.insecure`: the file must exist and hold a PEM certificate, and the target must be https. */
function trustOptions(ca: string | undefined, insecure: boolean | undefined, file: string | undefined, origin: string | undefined, problems: string[]): EngineOptions['tls'] {
  if (ca === undefined && !insecure) return undefined;
  if (ca !== undefined && insecure) problems.push('engine.insecure: give engine.ca (trust this CA) or engine.insecure (verify nothing), not both');
  if (origin !== undefined && !origin.startsWith('https:')) problems.push(`engine.${ca !== undefined ? 'ca' : 'insecure'}: applies to an https:// target; the target is ${origin}`);
  if (ca === undefined) return { insecure: true };
  const path = resolve(file ? dirname(file) : process.cwd(), ca);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    problems.push(`engine.ca: cannot read ${ca}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    return undefined;
  }
  try {
    new X509Certificate(pem);
  } catch {
    problems.push(`engine.ca: ${ca} holds no PEM certificate`);
    return undefined;
  }
  return { ca: pem, caFile: path };
}

function checkUrl(v: string, path: string, problems: string[]): URL | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    problems.push(`${path}: expected an http:// URL, got ${JSON.stringify(v)}`);
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    problems.push(`${path}: expected an http:// or https:// URL, got ${JSON.stringify(v)}`);
    return undefined;
  }
  if (!isLoopbackHost(u.hostname)) {
    problems.push(`${path}: faultline sends load only to loopback (127.0.0.1, localhost, [::1]); got ${u.hostname}`);
    return undefined;
  }
  if (u.username || u.password) {
    problems.push(`${path}: put credentials in a header, not in the URL`);
    return undefined;
  }
  return u;
}

/** The highest concurrency of the profile's closed-model stages (0 when it has none, or is adaptive). */
function closedConcurrency(build: () => Profile): number {
  const p = build();
  let max = 0;
  if (!p.adaptive) for (let st = p.next(); st; st = p.next()) if (st.model === 'closed') max = Math.max(max, st.concurrency);
  return max;
}
