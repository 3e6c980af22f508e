/**
 * Pure merges: worker windows into one Timeline window, and windows into a
 * stage summary. Histograms merge exactly (HDR add), counters add.
 */
import type { Histogram } from 'hdr-histogram-js';
import { ERROR_KINDS, PHASES, type Phases, type ErrorKind, type GeneratorHealth, type LatencySummary, type StageResult, type Stats, type Window } from '../timeline.ts';
import type { WireStats, WireWindow } from '../engine/messages.ts';
import type { StagePlan } from '../profiles/types.ts';
import { encode, mergeEncoded, summarize, view } from './histogram.ts';

/** Requests that ended in the window, answered or failed, not counting those still unfinished when the run ended. */
export function completedCount(s: Stats): number {
  return s.requests - (s.byKind.unfinished ?? 0);
}

export function mergeStats(list: readonly (WireStats | Stats)[]): Stats {
  if (list.length === 1) return list[0];
  const byKind: Partial<Record<ErrorKind, number>> = {};
  const examples: Partial<Record<ErrorKind, string>> = {};
  let requests = 0;
  let errors = 0;
  let retries = 0;
  for (const s of list) {
    requests += s.requests;
    errors += s.errors;
    retries += s.retries ?? 0;
    for (const k of ERROR_KINDS) {
      const n = s.byKind[k];
      if (n) byKind[k] = (byKind[k] ?? 0) + n;
      if (examples[k] === undefined && s.examples[k] !== undefined) examples[k] = s.examples[k];
    }
  }
  const lat = mergeEncoded(list.map((s) => s.latency));
  const svc = mergeEncoded(list.map((s) => s.service));
  const out: Stats = { requests, errors, byKind, examples, latency: encode(lat), service: encode(svc) };
  const pend = list.map((s) => s.pending).filter((p): p is string => p !== undefined);
  if (pend.length) out.pending = encode(mergeEncoded(pend));
  const phases = mergePhases(list);
  if (phases) out.phases = phases;
  if (retries > 0) out.retries = retries;
  return out;
}

/** Phase histograms merged exactly, phase by phase (absent when no part had any). */
function mergePhases(list: readonly (WireStats | Stats)[]): Phases | undefined {
  let out: Phases | undefined;
  for (const p of PHASES) {
    const parts: string[] = [];
    for (const s of list) {
      const h = s.phases?.[p];
      if (h !== undefined) parts.push(h);
    }
    if (parts.length > 0) (out ??= {})[p] = parts.length === 1 ? parts[0] : encode(mergeEncoded(parts));
  }
  return out;
}

/** Thresholds for calling the generator the limit (documented in README). */
export const GENERATOR_LIMITS = {
  /** Event-loop utilisation at or above which a worker counts as saturated. */
  elu: 0.9,
  /** Event-loop lag worth a warning (the worker woke this late), ms. */
  lagMs: 50,
  /** Backlog, as a share of the window's offered arrivals, that counts as falling behind. */
  backlogShare: 0.01,
  /** Send slip p99 that counts as falling behind, ms. */
  slipMs: 10,
};

/**
 * Generator health of some workers' windows (one process's, or one agent's): whether
 * they, not the target, were the limit.
 */
export function judgeGenerator(parts: readonly WireWindow[], model: 'open' | 'closed', maxInFlight = Infinity): GeneratorHealth {
  const offered = parts.reduce((a, p) => a + p.offered, 0);
  const g: GeneratorHealth = {
    maxLagMs: Math.max(...parts.map((p) => p.maxLagMs)),
    elu: Math.max(...parts.map((p) => p.elu)),
    slipP99Ms: Math.max(...parts.map((p) => p.slipP99Ms)),
    backlog: parts.reduce((a, p) => a + p.backlog, 0),
    inFlight: parts.reduce((a, p) => a + p.inFlight, 0),
    limited: false,
  };
  const behind = model === 'open' && (g.backlog > Math.max(1, offered * GENERATOR_LIMITS.backlogShare) || g.slipP99Ms > GENERATOR_LIMITS.slipMs);
  // Only a worker busy with its own work is "the limit". A worker that was mostly idle
  // yet woke late was starved of CPU by something else on the machine (often the target
  // itself on the same cores): its lateness still counts in the corrected latency, so it
  // is reported as a warning, not hidden, but it does not make the stage unjudgeable.
  const saturated = g.elu >= GENERATOR_LIMITS.elu;
  const slotsFull = g.inFlight >= maxInFlight;
  if (behind && saturated) {
    g.limited = true;
    g.reason = `generator fell behind its schedule (backlog ${g.backlog}, send slip p99 ${g.slipP99Ms.toFixed(1)} ms) with its event loop ${Math.round(g.elu * 100)}% busy`;
  } else if (model === 'closed' && g.elu >= 0.95) {
    g.limited = true;
    g.reason = `generator event loop ${Math.round(g.elu * 100)}% busy: the closed-model rate is the generator's`;
  } else if (behind && g.backlog > Math.max(1, offered * GENERATOR_LIMITS.backlogShare) && slotsFull) {
    g.reason = `all ${maxInFlight} connection slots busy: ${g.backlog} arrivals waited for one (the wait counts in their latency)`;
  } else if (behind && g.maxLagMs >= GENERATOR_LIMITS.lagMs) {
    g.reason = `generator sent late (slip p99 ${g.slipP99Ms.toFixed(1)} ms, event-loop lag ${g.maxLagMs.toFixed(0)} ms) while its thread was ${Math.round(g.elu * 100)}% busy: CPU contention on this machine (the lateness counts in latency)`;
  }
  return g;
}

export function mergeWindows(index: number, parts: readonly WireWindow[], model: 'open' | 'closed', maxInFlight = Infinity): Window {
  const names = new Set<string>();
  for (const p of parts) for (const n of Object.keys(p.byName)) names.add(n);
  const byName: Record<string, Stats> = {};
  for (const n of names) byName[n] = mergeStats(parts.map((p) => p.byName[n]).filter((s): s is WireStats => s !== undefined));
  const overall = names.size === 1 ? byName[[...names][0]] : mergeStats(Object.values(byName));
  const start = Math.min(...parts.map((p) => p.start));
  const end = Math.max(...parts.map((p) => p.end));
  const secs = Math.max(end - start, 1) / 1000;
  const offered = parts.reduce((a, p) => a + p.offered, 0);
  const sent = parts.reduce((a, p) => a + p.sent, 0);
  const g = judgeGenerator(parts, model, maxInFlight);
  return {
    index,
    stage: parts[0].stage,
    start,
    end,
    offered,
    sent,
    offeredRate: offered / secs,
    achievedRate: completedCount(overall) / secs,
    overall,
    byName,
    generator: g,
  };
}

/**
 * Several Timeline windows as one — the one merge of windows (autocannon's
 * aggregateResult): a stage's windows judged together, a clause measured over
 * a span, the same window from several result files, a late worker window
 * added to its window. Stats merge exactly, counts add, rates are over the
 * span (first start to last end, unless given), generator health is the worst
 * of them (unless given), agent problems are kept.
 */
export function combineWindows(ws: readonly Window[], o: { index?: number; span?: readonly [number, number]; generator?: GeneratorHealth } = {}): Window {
  const names = new Set(ws.flatMap((w) => Object.keys(w.byName)));
  const byName: Record<string, Stats> = {};
  for (const n of names) byName[n] = mergeStats(ws.map((w) => w.byName[n]).filter((s): s is Stats => s !== undefined));
  const overall = mergeStats(ws.map((w) => w.overall));
  const [start, end] = o.span ?? [Math.min(...ws.map((w) => w.start)), Math.max(...ws.map((w) => w.end))];
  const secs = Math.max(end - start, 1) / 1000;
  const offered = ws.reduce((a, w) => a + w.offered, 0);
  const limited = ws.filter((w) => w.generator.limited);
  const generator: GeneratorHealth = o.generator ?? {
    maxLagMs: Math.max(...ws.map((w) => w.generator.maxLagMs)),
    elu: Math.max(...ws.map((w) => w.generator.elu)),
    slipP99Ms: Math.max(...ws.map((w) => w.generator.slipP99Ms)),
    backlog: ws.reduce((a, w) => a + w.generator.backlog, 0),
    inFlight: ws.reduce((a, w) => a + w.generator.inFlight, 0),
    limited: limited.length > 0,
    ...(limited.length ? { reason: limited.map((w) => w.generator.reason).join('; ') } : {}),
  };
  const problems = ws.flatMap((w) => w.agentProblems ?? []);
  const dependencies = combineDependencies(ws);
  const probes = combineProbes(ws);
  return {
    index: o.index ?? ws[0].index,
    stage: ws[0].stage,
    start,
    end,
    offered,
    sent: ws.reduce((a, w) => a + w.sent, 0),
    offeredRate: offered / secs,
    achievedRate: completedCount(overall) / secs,
    overall,
    byName,
    generator,
    ...(problems.length ? { agentProblems: problems } : {}),
    ...(dependencies ? { dependencies } : {}),
    ...(probes ? { probes } : {}),
  };
}

/** What the windows' dependencies saw, added up per dependency. */
function combineDependencies(ws: readonly Window[]): Window['dependencies'] {
  if (!ws.some((w) => w.dependencies)) return undefined;
  const out: NonNullable<Window['dependencies']> = {};
  for (const w of ws) {
    for (const [n, d] of Object.entries(w.dependencies ?? {})) {
      const o = (out[n] ??= { connections: 0 });
      o.connections += d.connections;
      if (d.requests !== undefined) o.requests = (o.requests ?? 0) + d.requests;
      if (d.forwarded !== undefined) o.forwarded = (o.forwarded ?? 0) + d.forwarded;
    }
  }
  return out;
}

/** Probe polls over the windows: ok only when every poll was, the slowest latency, the first failure's value and reason. */
function combineProbes(ws: readonly Window[]): Window['probes'] {
  if (!ws.some((w) => w.probes)) return undefined;
  const out: NonNullable<Window['probes']> = {};
  for (const w of ws) {
    for (const [n, p] of Object.entries(w.probes ?? {})) {
      const o = out[n];
      if (!o) {
        out[n] = { ...p };
        continue;
      }
      const firstFailure = o.ok && !p.ok;
      o.ok &&= p.ok;
      o.polls += p.polls;
      o.failed += p.failed;
      o.latencyMs = Math.max(o.latencyMs, p.latencyMs);
      if (firstFailure) {
        if (p.value !== undefined) o.value = p.value;
        if (p.message !== undefined) o.message = p.message;
      }
    }
  }
  return out;
}

/**
 * Adds a late (final) worker window's requests into the window they belong to
 * (stragglers in flight at the last boundary): the window's span, what it
 * offered and its generator health stay as measured.
 */
export function absorb(w: Window, parts: readonly WireWindow[]): Window {
  const late = mergeWindows(w.index, parts, 'open');
  // What the window sampled beside its requests (dependencies, probes) is kept too.
  return { ...w, ...combineWindows([w, { ...late, offered: 0 }], { span: [w.start, w.end], generator: w.generator }) };
}

export interface StatsSummary {
  requests: number;
  errorCount: number;
  errorRate: number;
  errors: Partial<Record<ErrorKind, number>>;
  examples: Partial<Record<ErrorKind, string>>;
  latency: LatencySummary;
  serviceTime: LatencySummary;
  latencyHist: Histogram;
  /** Attempts sent again (opt-in retries); absent when none. */
  retries?: number;
}

export function summarizeStats(list: readonly Stats[]): StatsSummary {
  const m = mergeStats(list);
  const latencyHist = view(m.latency);
  return {
    requests: m.requests,
    errorCount: m.errors,
    errorRate: m.requests > 0 ? m.errors / m.requests : 0,
    errors: m.byKind,
    examples: m.examples,
    latency: summarize(latencyHist),
    serviceTime: summarize(view(m.service)),
    latencyHist,
    ...(m.retries ? { retries: m.retries } : {}),
  };
}

/** A stage's summary from its windows (a run's, or merged result files'). */
export function stageResult(p: StagePlan, i: number, ws: Window[], start: number, end: number): StageResult {
  const counted = ws.filter((w) => !(p.warmupMs > 0 && w.end <= start + p.warmupMs + 1));
  const use = counted.length ? counted : ws;
  const all = summarizeStats(use.map((w) => w.overall));
  const names = new Set(use.flatMap((w) => Object.keys(w.byName)));
  const byName: StageResult['byName'] = {};
  for (const n of names) {
    const s = summarizeStats(use.map((w) => w.byName[n]).filter((x) => x !== undefined));
    byName[n] = { requests: s.requests, errorCount: s.errorCount, errorRate: s.errorRate, latency: s.latency };
  }
  const secs = use.reduce((a, w) => a + (w.end - w.start), 0) / 1000;
  const offered = use.reduce((a, w) => a + w.offered, 0);
  const gen = use.find((w) => w.generator.limited);
  return {
    index: i,
    label: p.label,
    model: p.model,
    start,
    end: ws.length ? Math.max(end, ws[ws.length - 1].end) : end,
    offeredRate: p.model === 'open' ? (p.rateFrom + p.rateTo) / 2 : secs > 0 ? offered / secs : 0,
    rateFrom: p.model === 'open' && p.rateFrom !== p.rateTo ? p.rateFrom : undefined,
    rateTo: p.model === 'open' && p.rateFrom !== p.rateTo ? p.rateTo : undefined,
    concurrency: p.model === 'closed' ? p.concurrency : undefined,
    achievedRate: secs > 0 ? (all.requests - (all.errors.unfinished ?? 0)) / secs : 0,
    requests: all.requests,
    errors: all.errors,
    errorCount: all.errorCount,
    errorRate: all.errorRate,
    latency: all.latency,
    serviceTime: all.serviceTime,
    byName,
    generatorLimited: gen !== undefined,
    generatorReason: gen?.generator.reason,
    warmupMs: p.warmupMs || undefined,
    examples: all.examples,
    ...(all.retries ? { retries: all.retries } : {}),
  };
}
