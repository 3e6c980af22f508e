/**
 * The coordinator: one run, one clock. It starts the system's services and
 * proxies, runs the profile's stages on the engine, merges windows into the
 * Timeline, judges each window, fires faults on schedule, stops on a stop
 * condition or a signal, and on every exit path undoes every fault, stops
 * what it started and writes what was measured.
 */
import { dirname } from 'node:path';
import { ProbeRunner } from './probes/runner.ts';
import { probeKinds } from './probes/index.ts';
import type { ProbeResult } from './probes/types.ts';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Engine, type EngineOptions, type LoadEngine } from './engine/engine.ts';
import type { EngineContext } from './agents/fleet.ts';
import type { Scenario } from './config/scenario.ts';
import type { Profile, StagePlan, StageVerdict } from './profiles/types.ts';
import type { Result } from './result.ts';
import type { StageResult, Timeline, TimelineEvent, Window } from './timeline.ts';
import { RESULT_VERSION } from './result.ts';
import { evaluateWindow, type WindowVerdict } from './hypothesis/evaluate.ts';
import { compare, type Clause } from './hypothesis/parse.ts';
import { judgeStageWindows } from './hypothesis/judge.ts';
import { StopConditions } from './hypothesis/stop.ts';
import { absorb, mergeWindows, stageResult } from './metrics/merge.ts';
import { initHistograms } from './metrics/histogram.ts';
import { levelOf } from './analysis/breaches.ts';
import { analyze } from './analysis/analyze.ts';
import { decideOutcome } from './analysis/gate.ts';
import { AbortError, UsageError } from './errors.ts';
import { startEnvironment, type Environment } from './environment.ts';
import { VERSION } from './version.ts';

export interface RunOptions {
  /** Called with each merged window and its verdict (live view). */
  onWindow?: (w: Window, v: WindowVerdict, ctx: LiveContext) => void;
  /** Called with each Timeline event as it happens. */
  onEvent?: (e: TimelineEvent) => void;
  /** Aborts the run (as a signal would): load stops, faults are undone, the result is kept. */
  signal?: AbortSignal;
  /** Overrides the scenario's required level (req/s). */
  require?: number;
  /** How the run was started, for the result's metadata. */
  command?: string;
  /** Grace for in-flight requests at the end, ms (default: min(timeout, 5 s)). */
  graceMs?: number;
  /** Directory for service logs and the fault journal (default .faultline). */
  stateDir?: string;
  /** The load engine (default: this process's workers; scale-out: a Fleet of agents). */
  makeEngine?: (opts: EngineOptions, ctx: EngineContext) => LoadEngine;
  /** Agents sharing the load (scale-out), for the result's metadata. */
  agents?: number;
}

export interface LiveContext {
  stage: StagePlan;
  stageIndex: number;
  elapsedMs: number;
  activeFaults: string[];
  breached: boolean;
}

/** Runs a scenario to its end and returns the result (also on abort). Throws only for bad usage. */
export async function run(scenario: Scenario, opts: RunOptions = {}): Promise<Result> {
  await initHistograms();
  const startedAt = new Date();
  const now = () => performance.timeOrigin + performance.now();
  const runStart = now();
  const timeline: Timeline = { tickMs: scenario.windowMs, windows: [], events: [] };
  const verdicts: WindowVerdict[] = [];
  const plans: StagePlan[] = [];
  const stageStarts: number[] = [];
  const stageEnds: number[] = [];
  let abortReason: string | undefined;
  let fatal: string | undefined;
  const emit = (e: TimelineEvent) => {
    timeline.events.push(e);
    opts.onEvent?.(e);
  };
  const ac = new AbortController();
  const abort = (reason: string) => {
    if (!abortReason) {
      abortReason = reason;
      emit({ t: now(), type: 'abort', reason });
    }
    ac.abort();
  };
  if (opts.signal) {
    if (opts.signal.aborted) abort(String(opts.signal.reason ?? 'aborted'));
    opts.signal.addEventListener('abort', () => abort(String(opts.signal!.reason ?? 'aborted')), { once: true });
  }
  const model = scenario.makeProfile().next()?.model ?? 'open';
  const meta: Result['meta'] = {
    faultline: VERSION,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cores: cpus().length,
    workers: scenario.engine.workers,
    connections: scenario.engine.connections,
    pipelining: scenario.engine.pipelining,
    ...(scenario.engine.retries ? { retries: scenario.engine.retries } : {}),
    startedAt: startedAt.toISOString(),
    scenario: scenario.name,
    scenarioFile: scenario.file,
    target: scenario.target,
    expectedPeak: scenario.expectedPeak,
    model,
    timeoutMs: scenario.engine.timeoutMs,
    command: opts.command,
    agents: opts.agents,
  };
  emit({ t: runStart, type: 'run-start' });
  for (const message of scenario.warnings ?? []) emit({ t: runStart, type: 'note', message });

  const stopConditions = new StopConditions(scenario.stop, scenario.windowMs);
  const checkStop = (w: Window) => {
    const reason = stopConditions.check(w);
    if (reason) abort(reason);
  };

  let env: Environment | undefined;
  let engine: LoadEngine | undefined;
  let currentStage = -1;
  let lastOffered = 0;
  let stageWindowsWait: { stage: number; resolve: () => void } | undefined;
  let breachedNow = false;
  let probeRunner: ProbeRunner | undefined;
  const probeState = new Map<string, boolean>();
  /** Since when each probe stop condition has been met, by clause index. */
  const probeStopSince = new Map<number, number>();
  const onProbe = (name: string, r: ProbeResult) => {
    // The Timeline records each probe's changes of state (and its first answer), not every poll.
    if (probeState.get(name) !== r.ok) {
      probeState.set(name, r.ok);
      emit({ t: r.t, type: 'probe', probe: name, ok: r.ok, latencyMs: r.latencyMs, ...(r.value !== undefined ? { value: r.value } : {}), ...(r.message ? { message: r.message } : {}) });
    }
    if (ac.signal.aborted) return;
    scenario.stop.forEach((c: Clause, i) => {
      if (c.metric.type !== 'probe' || c.metric.probe !== name) return;
      const value = c.metric.check === 'ok' ? (r.ok ? 1 : 0) : r.latencyMs;
      if (!compare(value, c.op, c.threshold)) {
        probeStopSince.delete(i);
        return;
      }
      const since = probeStopSince.get(i) ?? r.t;
      probeStopSince.set(i, since);
      if (r.t - since >= (c.forMs ?? 0)) abort(`stop condition "${c.text}" met (${r.message ?? (c.metric.check === 'ok' ? 'the probe failed' : `${r.latencyMs.toFixed(0)} ms`)})`);
    });
  };
  /** What each fault proxy passed to its dependency (Window.dependencies) and what the probes said (Window.probes) during the window. */
  const sampleDependencies = (w: Window) => {
    const polled = probeRunner?.window(w.start, w.end);
    if (polled) w.probes = polled;
    const names = env?.proxies.names() ?? [];
    if (!names.length) return;
    w.dependencies = {};
    for (const n of names) {
      const p = env!.proxies.get(n);
      if (p) w.dependencies[n] = p.trafficBetween(w.start, w.end);
    }
  };
  const onWindow = (raw: Window) => {
    const w = raw;
    sampleDependencies(w);
    timeline.windows.push(w);
    const plan = plans[w.stage];
    const warm = plan ? plan.warmupMs : 0;
    const excluded = plan !== undefined && warm > 0 && w.end <= stageStarts[w.stage] + warm + 1;
    const v = evaluateWindow(w, scenario.hypothesis, scenario.minSamples, excluded);
    verdicts.push(v);
    breachedNow = v.status === 'fail';
    if (plan?.model === 'open') lastOffered = levelOf(w, plans);
    if (!ac.signal.aborted) checkStop(w);
    opts.onWindow?.(w, v, {
      stage: plan,
      stageIndex: w.stage,
      elapsedMs: w.end - runStart,
      activeFaults: env?.injector.active() ?? [],
      breached: breachedNow,
    });
    // The stage's last window arrived: the stage can be judged.
    if (stageWindowsWait && w.stage === stageWindowsWait.stage && stageEnds[w.stage] !== undefined && w.end >= stageEnds[w.stage] - 1) stageWindowsWait.resolve();
  };

  /** The adaptive profile whose own account goes in the result (`search`). */
  let adaptive: Profile | undefined;
  let undoFailures: { fault: string; error: string }[] = [];
  let ticker: NodeJS.Timeout | undefined;
  let loadStart: number | undefined;
  try {
    env = await startEnvironment(scenario, { emit, now, stateDir: opts.stateDir ?? '.faultline', runStart });
    if (scenario.probes.length) {
      const cwd = scenario.file ? dirname(scenario.file) : process.cwd();
      probeRunner = new ProbeRunner(
        scenario.probes.map((spec) => ({ spec, probe: probeKinds[spec.kind]!.create(spec.name, spec.params as never, { timeoutMs: spec.timeoutMs, cwd }) })),
        { now, onResult: onProbe },
      );
      probeRunner.start();
    }
    const engineOpts: EngineOptions = {
      ...scenario.engine,
      target: scenario.target,
      requests: scenario.requests,
      scenarioFile: scenario.file,
      tickMs: scenario.windowMs,
      // Load sent through one of the run's own TLS proxies trusts the run's CA, unless told otherwise.
      tls: scenario.engine.tls ?? env.trustFor(scenario.target),
      onWindow,
      onFatal: (m) => {
        fatal = m;
        abort(m);
      },
    };
    engine = opts.makeEngine ? opts.makeEngine(engineOpts, { signal: ac.signal, note: (message) => emit({ t: now(), type: 'note', message }) }) : new Engine(engineOpts);
    await engine.start();
    // Faults fire on a fine clock, not only at window boundaries.
    // Time triggers count from the start of the load, after the baseline: a fault never
    // lands in the baseline, whose only job is to prove the hypothesis before anything is pushed.
    const injectorState = () => ({ now: now(), elapsedMs: loadStart === undefined ? -1 : now() - loadStart, loadStarted: loadStart !== undefined, offeredRate: currentOffered(), stage: currentStage });
    const currentOffered = () => {
      const p = plans[currentStage];
      if (!p) return 0;
      if (p.model === 'closed') return lastOffered;
      const into = Math.min(Math.max(now() - stageStarts[currentStage], 0), p.durationMs);
      return p.rateFrom + ((p.rateTo - p.rateFrom) * into) / p.durationMs;
    };
    let ticking = false;
    ticker = setInterval(() => {
      if (ticking || ac.signal.aborted || currentStage < 0) return;
      ticking = true;
      env!.injector.tick(injectorState()).finally(() => (ticking = false));
    }, 25);

    const profile: Profile = scenario.makeProfile();
    if (profile.report) adaptive = profile;
    let prev: StageVerdict | undefined;
    let nextStart = now() + 50;
    let useBaseline = scenario.baseline !== undefined;
    while (!ac.signal.aborted) {
      let plan: StagePlan | undefined;
      if (useBaseline) {
        plan = scenario.baseline;
        useBaseline = false;
      } else plan = profile.next(prev);
      if (!plan) break;
      const idx = plans.length;
      plans.push(plan);
      const startAt = Math.max(nextStart, now() + 20);
      stageStarts[idx] = startAt;
      stageEnds[idx] = startAt + plan.durationMs;
      engine.runStage(plan, idx, startAt);
      await sleepUntil(startAt, now, ac.signal);
      if (ac.signal.aborted) break;
      currentStage = idx;
      if (plan.kind !== 'baseline') loadStart ??= startAt;
      emit({ t: startAt, type: 'stage-start', stage: idx, offeredRate: plan.model === 'open' ? plan.rateFrom : 0, label: plan.label });
      await env.injector.tick(injectorState());
      // Baseline and adaptive stages are judged before the next stage is chosen; fixed
      // profiles hand the next stage to the workers just before this one ends, so there
      // is no gap between stages.
      if (plan.kind === 'baseline' || profile.adaptive) {
        await waitStageEnd(idx);
        if (ac.signal.aborted) break;
        const verdict = judgeStage(idx);
        // The baseline is not the profile's stage: an adaptive profile starts from its own first level.
        if (plan.kind !== 'baseline') prev = verdict;
        if (plan.kind === 'baseline' && scenario.hypothesis.length > 0 && (!verdict.held || verdict.inconclusive)) {
          abort(verdict.inconclusive ? baselineInconclusive(verdict, plan, scenario.minSamples) : 'the hypothesis does not hold at baseline');
          break;
        }
        nextStart = now() + Math.max(50, plan.cooldownMs ?? 0);
      } else {
        await sleepUntil(stageEnds[idx] - 150, now, ac.signal);
        nextStart = stageEnds[idx];
      }
    }
    // Let the last stage's last window arrive before the workers are told to stop.
    if (!ac.signal.aborted && plans.length) await waitStageEnd(plans.length - 1);
  } catch (e) {
    if (e instanceof UsageError) {
      // Bad usage found at run time (a port in use, a service that never became ready): exit 3 after cleanup.
      abort(e.problems.join('; '));
    } else if (e instanceof AbortError) {
      // Found at run time (a service that never became ready): abort, exit 3.
      abort(e.reason);
    } else {
      fatal ??= (e as Error).stack ?? String(e);
      abort(`internal error: ${(e as Error).message}`);
    }
  } finally {
    if (ticker) clearInterval(ticker);
    const grace = opts.graceMs ?? (abortReason ? 1000 : Math.min(scenario.engine.timeoutMs + 1000, 5000));
    // Aborted (a signal, a dead parent, a stop condition): the system comes back first, so its
    // faults are undone while in-flight requests drain, not a grace period later.
    if (abortReason && env) void env.undoFaults?.();
    if (engine) {
      const finals = await engine.stop(grace, abortReason).catch(() => []);
      const withData = finals.filter((f) => Object.values(f.byName).some((s) => s.requests > 0));
      if (withData.length && timeline.windows.length && !abortReason) {
        // Normal end: stragglers (in flight at the last boundary) belong to the last window.
        const last = timeline.windows.length - 1;
        timeline.windows[last] = absorb(timeline.windows[last], withData);
        verdicts[last] = evaluateWindow(timeline.windows[last], scenario.hypothesis, scenario.minSamples, verdicts[last].status === 'excluded');
      } else if (withData.length) {
        // Aborted mid-window: the partial window is kept as a window of its own.
        const w = mergeWindows(timeline.windows.length, withData, plans[withData[0].stage]?.model ?? 'open');
        sampleDependencies(w);
        timeline.windows.push(w);
        verdicts.push(evaluateWindow(w, scenario.hypothesis, scenario.minSamples));
      }
    }
    await probeRunner?.stop();
    // Calls the system made after the last window's end (its answers to the last requests) belong to that window, as stragglers do.
    const lastW = timeline.windows.at(-1);
    if (env && lastW?.dependencies) {
      for (const [n, d] of Object.entries(lastW.dependencies)) {
        const more = env.proxies.get(n)?.trafficBetween(lastW.end, Infinity);
        if (!more) continue;
        d.connections += more.connections;
        if (d.requests !== undefined) d.requests += more.requests ?? 0;
        if (d.forwarded !== undefined) d.forwarded += more.forwarded ?? 0;
      }
    }
    if (env) {
      const r = await env.close();
      undoFailures = r.failed;
    }
    emit({ t: now(), type: 'run-end' });
  }

  async function waitStageEnd(idx: number): Promise<void> {
    const have = timeline.windows.some((w) => w.stage === idx && w.end >= stageEnds[idx] - 1);
    if (have) return;
    const lastWindow = new Promise<void>((resolve) => (stageWindowsWait = { stage: idx, resolve }));
    await Promise.race([lastWindow, abortable(ac.signal), timeoutAt(stageEnds[idx] + 3000, now)]);
    stageWindowsWait = undefined;
  }

  function judgeStage(idx: number): StageVerdict {
    return judgeStageWindows(
      plans[idx],
      timeline.windows.map((w, i) => ({ w, v: verdicts[i] })).filter((x) => x.w.stage === idx),
      scenario,
    );
  }

  // ---- the result: analysis once, then the gate ----
  const runEnd = now();
  meta.endedAt = new Date().toISOString();
  meta.durationMs = runEnd - runStart;
  const stages: StageResult[] = plans.map((p, i) => stageResult(p, i, timeline.windows.filter((w) => w.stage === i), stageStarts[i], stageEnds[i]));
  const required = opts.require ?? scenario.require ?? scenario.expectedPeak;
  const analysis = analyze(timeline, {
    clauses: scenario.hypothesis,
    windowMs: scenario.windowMs,
    sustain: scenario.sustain,
    minSamples: scenario.minSamples,
    plans,
    stages,
    runStart,
    runEnd,
    expectedPeak: scenario.expectedPeak,
    required,
    mayBreak: Object.fromEntries(scenario.faults.filter((f) => f.mayBreak).map((f) => [f.name, f.mayBreak!])),
    series: Object.fromEntries(scenario.faults.filter((f) => f.series).map((f) => [f.name, f.series!.name])),
  });
  const outcome = decideOutcome(analysis, { fatal, abortReason, undoFailures });
  const result: Result = {
    version: RESULT_VERSION,
    meta,
    stages,
    timeline,
    outcome,
    ...analysis,
    search: adaptive?.report?.() ?? null,
    undoFailures,
  };
  const agents = engine?.agents?.();
  if (agents) result.agents = agents;
  return result;
}

/** Why the baseline could not be judged, naming the clauses and what they had. */
function baselineInconclusive(v: StageVerdict, plan: StagePlan, minSamples: number): string {
  const which = (v.openClauses ?? []).map((c) => `"${c.clause}" had ${c.samples} request${c.samples === 1 ? '' : 's'} due`).join(', ');
  return `the hypothesis could not be judged at baseline: ${which || 'too few requests were due'} over the ${plan.durationMs / 1000}s baseline (minSamples ${minSamples}); raise the baseline rate or duration, or lower minSamples`;
}

/** Resolves at `t` on the run's clock, never before it (timers may fire a fraction of a millisecond early). */
function sleepUntil(t: number, now: () => number, signal: AbortSignal): Promise<void> {
  const ms = t - now();
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let timer = setTimeout(check, Math.ceil(ms));
    function check() {
      const left = t - now();
      if (left > 0 && !signal.aborted) timer = setTimeout(check, Math.max(1, Math.ceil(left)));
      else done();
    }
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function abortable(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function timeoutAt(t: number, now: () => number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, t - now())).unref());
}
