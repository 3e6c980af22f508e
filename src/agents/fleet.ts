/**
 * Agent 0's side of a scale-out run: a load engine made of its own workers and
 * the other agents' (k6's execution segments: agent k sends the arrivals
 * i ≡ k mod N of every stage). The coordinator drives it as it drives one
 * process's Engine: start (a barrier with a timeout and a clock check per
 * agent), runStage (broadcast), stop (broadcast, within the stop's grace).
 *
 * Every worker of every agent streams its windows here unmerged, so a window
 * is merged exactly as one process merges its workers (HDR add, counters add).
 * A window is handed on when every agent's share has arrived, or when an
 * agent is dead or stalled past its end: then it is merged from what came and
 * names, in `agentProblems`, the agents whose load is missing, so no verdict
 * is given over load that was not sent.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Engine, type EngineOptions, type LoadEngine } from '../engine/engine.ts';
import type { WireWindow } from '../engine/messages.ts';
import { concurrencyShare } from '../engine/schedule.ts';
import type { StagePlan } from '../profiles/types.ts';
import type { AgentProblem, AgentSummary, Window } from '../timeline.ts';
import { judgeGenerator, mergeWindows } from '../metrics/merge.ts';
import { AbortError } from '../errors.ts';
import { Link } from './link.ts';
import { AGENT_PROTOCOL, type AgentStage, type FromAgent, type ToAgent } from './messages.ts';

export interface FleetOptions {
  /** Agents in the run, agent 0 (this process) included. */
  agents: number;
  /** Where agent 0 listens for the others; no host: every interface (in a pod). */
  listen: { host?: string; port: number };
  /** How long the start barrier waits for every agent, ms. */
  barrierMs: number;
  /** Largest clock offset between an agent and agent 0 that a run accepts, ms. */
  maxSkewMs: number;
  /** How long past a window's end an agent's share may be late before the window goes on without it, ms. */
  stallMs?: number;
  /** The listener is up (local agents are started then, pointed at this port). */
  onListening?: (port: number) => void | Promise<void>;
  /** A line for the user (an agent joined, was lost, ...). */
  log?: (line: string) => void;
}

/** What the coordinator hands an engine besides its options. */
export interface EngineContext {
  signal: AbortSignal;
  /** Puts a note on the Timeline. */
  note: (message: string) => void;
}

interface Member {
  index: number;
  name: string;
  link?: Link<FromAgent, ToAgent>;
  state: 'joining' | 'ready' | 'done' | 'gone';
  workers: number;
  slots: number;
  offsetMs: number;
  rttMs: number;
  goneAt?: number;
  goneReason?: string;
  sent: number;
  requests: number;
  windowsMissing: number;
  lateRequests: number;
}

interface PendingWindow {
  key: string;
  stage: number;
  seq: number;
  end: number;
  parts: Map<number, WireWindow[]>;
}

const PROBES = 5;

export class Fleet implements LoadEngine {
  private readonly opts: EngineOptions;
  private readonly fleet: FleetOptions;
  private readonly ctx: EngineContext;
  private readonly members: Member[];
  private local: Engine | undefined;
  private server: net.Server | undefined;
  private pending = new Map<string, PendingWindow>();
  private emitted = new Set<string>();
  private finals: WireWindow[] = [];
  private windowIndex = 0;
  private model: 'open' | 'closed' = 'open';
  private ticker: NodeJS.Timeout | undefined;
  private stopping = false;
  private barrier: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private doneWait: (() => void) | undefined;
  /** Parts that came after their window had gone on without them (not counted: the window names the agent instead). */
  latePartsDropped = 0;
  /** The port agent 0 listens on. */
  port = 0;

  constructor(opts: EngineOptions, fleet: FleetOptions, ctx: EngineContext) {
    if (!Number.isInteger(fleet.agents) || fleet.agents < 1) throw new Error(`agents must be a whole number ≥ 1, got ${fleet.agents}`);
    this.opts = opts;
    this.fleet = fleet;
    this.ctx = ctx;
    this.members = Array.from({ length: fleet.agents }, (_, i) => ({
      index: i,
      name: `agent ${i}`,
      state: i === 0 ? 'ready' : 'joining',
      workers: i === 0 ? opts.workers : 0,
      slots: 0,
      offsetMs: 0,
      rttMs: 0,
      sent: 0,
      requests: 0,
      windowsMissing: 0,
      lateRequests: 0,
    }));
  }

  private now(): number {
    return performance.timeOrigin + performance.now();
  }

  private log(line: string): void {
    this.fleet.log?.(line);
  }

  /** This agent's share of the run's connections (at least one). */
  private connectionsOf(i: number): number {
    return Math.max(1, concurrencyShare({ index: i, count: this.fleet.agents }, this.opts.connections));
  }

  async start(): Promise<void> {
    const n = this.fleet.agents;
    const me = this.members[0];
    me.slots = Math.max(1, Math.floor(this.connectionsOf(0) / this.opts.workers)) * this.opts.workers * this.opts.pipelining;
    this.local = new Engine({
      ...this.opts,
      connections: this.connectionsOf(0),
      segment: { index: 0, count: n },
      onPart: (p, _w, final) => this.onPart(0, p, final),
    });
    const joined = n > 1 ? this.listen() : Promise.resolve();
    await joined;
    const barrier =
      n > 1
        ? new Promise<void>((resolve, reject) => {
            this.barrier = { resolve, reject };
            const t = setTimeout(() => {
              const missing = this.members.filter((m) => m.state !== 'ready').map((m) => m.name);
              reject(new AbortError(`start barrier: ${n - 1 - missing.length} of ${n - 1} agents joined within ${Math.round(this.fleet.barrierMs / 1000)} s (missing: ${missing.join(', ')})`));
            }, this.fleet.barrierMs);
            t.unref();
            this.ctx.signal.addEventListener('abort', () => reject(new AbortError(String(this.ctx.signal.reason ?? 'aborted'))), { once: true });
          })
        : Promise.resolve();
    if (n > 1) await this.fleet.onListening?.(this.port);
    try {
      await Promise.all([this.local.start(), barrier]);
    } finally {
      this.barrier = undefined;
    }
    this.ticker = setInterval(() => this.emitReady(), 100);
    this.ticker.unref();
  }

  private listen(): Promise<void> {
    const server = net.createServer((socket) => this.admit(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(new AbortError(`agent 0 cannot listen on ${this.fleet.listen.host ?? '*'}:${this.fleet.listen.port}: ${e.message}`)));
      server.listen(this.fleet.listen.port, this.fleet.listen.host, () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private checkBarrier(): void {
    if (this.barrier && this.members.every((m) => m.state === 'ready')) this.barrier.resolve();
  }

  /** A connection from an agent: hello, clock probes, welcome, ready. */
  private admit(socket: net.Socket): void {
    let member: Member | undefined;
    const probes: { t0: number; t1: number; t: number }[] = [];
    const link: Link<FromAgent, ToAgent> = new Link<FromAgent, ToAgent>(
      socket,
      (m) => {
        switch (m.type) {
          case 'hello': {
            const n = this.fleet.agents;
            const refuse = (reason: string) => {
              link.send({ type: 'refuse', reason });
              link.end();
              this.log(`refused an agent from ${m.host} (pid ${m.pid}): ${reason}`);
            };
            if (m.protocol !== AGENT_PROTOCOL) return refuse(`agent protocol ${m.protocol}, agent 0 speaks ${AGENT_PROTOCOL} (faultline ${m.version} vs the coordinator's): run one faultline version`);
            if (m.agents !== n) return refuse(`this agent was told the run has ${m.agents} agents; agent 0 runs ${n}`);
            if (!Number.isInteger(m.index) || m.index < 1 || m.index >= n) return refuse(`agent index ${m.index} is not in 1…${n - 1}`);
            const mem = this.members[m.index];
            if (mem.state !== 'joining' || this.stopping) return refuse(`agent ${m.index} has already joined (or the run is over)`);
            member = mem;
            mem.link = link;
            mem.name = `agent ${m.index} (${m.host}, pid ${m.pid})`;
            link.send({ type: 'clock', id: 0, t0: this.now() });
            break;
          }
          case 'clock-reply': {
            if (!member) return;
            probes.push({ t0: m.t0, t1: this.now(), t: m.t });
            if (probes.length < PROBES) {
              link.send({ type: 'clock', id: probes.length, t0: this.now() });
              return;
            }
            // The probe with the shortest round trip bounds the offset best (NTP's choice).
            const best = probes.reduce((a, b) => (b.t1 - b.t0 < a.t1 - a.t0 ? b : a));
            member.rttMs = best.t1 - best.t0;
            member.offsetMs = best.t - (best.t0 + best.t1) / 2;
            const skew = Math.abs(member.offsetMs);
            if (skew > this.fleet.maxSkewMs) {
              const reason = `${member.name}'s clock is ${skew.toFixed(1)} ms ${member.offsetMs > 0 ? 'ahead of' : 'behind'} agent 0's (best of ${PROBES} round trips: ${member.rttMs.toFixed(1)} ms); the most a run accepts is ${this.fleet.maxSkewMs} ms (--max-skew): synchronise the clocks (NTP, chrony) first`;
              link.send({ type: 'refuse', reason });
              link.end();
              this.barrier?.reject(new AbortError(reason));
              return;
            }
            link.send({
              type: 'welcome',
              segment: { index: member.index, count: this.fleet.agents },
              offsetMs: member.offsetMs,
              engine: {
                target: this.opts.target,
                requests: this.opts.requests,
                scenarioFile: this.opts.scenarioFile,
                workers: this.opts.workers,
                connections: this.connectionsOf(member.index),
                pipelining: this.opts.pipelining,
                retries: this.opts.retries,
                timeoutMs: this.opts.timeoutMs,
                tickMs: this.opts.tickMs,
                errors4xx: this.opts.errors4xx,
              },
            });
            break;
          }
          case 'ready':
            if (!member) return;
            member.workers = m.workers;
            member.slots = m.slots;
            member.state = 'ready';
            this.log(`${member.name} joined: ${m.workers} worker(s), clock offset ${member.offsetMs.toFixed(1)} ms (round trip ${member.rttMs.toFixed(1)} ms)`);
            this.checkBarrier();
            break;
          case 'part':
            if (member) this.onPart(member.index, m.window, m.final);
            break;
          case 'done':
            if (!member) return;
            member.state = 'done';
            this.checkDone();
            break;
          case 'leaving':
            if (member) this.lose(member, m.reason);
            break;
        }
      },
      (err) => {
        if (member && member.link === link && member.state !== 'done') this.lose(member, err ? err.message : 'connection closed');
      },
    );
  }

  /** A local agent's process ended (before it joined, or without a word): it is lost. */
  agentExited(index: number, reason: string): void {
    const m = this.members[index];
    if (m && m.state !== 'done') this.lose(m, reason);
  }

  private lose(m: Member, reason: string): void {
    if (m.state === 'gone' || m.state === 'done') return;
    const wasReady = m.state === 'ready';
    m.state = 'gone';
    m.goneAt = this.now();
    m.goneReason = reason;
    m.link?.end();
    if (this.barrier) {
      // Before the start the run cannot have all its load: the barrier fails.
      this.barrier.reject(new AbortError(`${m.name} was lost before the start: ${reason}`));
      return;
    }
    if (wasReady && !this.stopping) {
      this.log(`${m.name} lost: ${reason}; its share of every window from now on is missing (inconclusive)`);
      this.ctx.note(`${m.name} lost: ${reason}`);
    }
    this.checkDone();
    this.emitReady();
  }

  private onPart(agent: number, part: WireWindow, final: boolean): void {
    const m = this.members[agent];
    if (final) {
      this.finals.push(part);
      this.tally(m, part);
      return;
    }
    if (this.emitted.has(part.key)) {
      this.latePartsDropped++;
      m.lateRequests += requestsIn(part);
      return;
    }
    let p = this.pending.get(part.key);
    if (!p) {
      p = { key: part.key, stage: part.stage, seq: part.seq, end: part.end, parts: new Map() };
      this.pending.set(part.key, p);
    }
    p.end = Math.max(p.end, part.end);
    const list = p.parts.get(agent) ?? [];
    list.push(part);
    p.parts.set(agent, list);
    this.emitReady();
  }

  private complete(p: PendingWindow): boolean {
    return this.members.every((m) => m.state === 'gone' || (p.parts.get(m.index)?.length ?? 0) >= m.workers);
  }

  /** Hands on windows in order: each once complete, or once past its end by the stall allowance. */
  private emitReady(force = false): void {
    const stallMs = this.fleet.stallMs ?? Math.max(2 * this.opts.tickMs, 2000);
    for (;;) {
      let head: PendingWindow | undefined;
      for (const p of this.pending.values()) if (!head || p.stage < head.stage || (p.stage === head.stage && p.seq < head.seq)) head = p;
      if (!head) return;
      if (!force && !this.complete(head) && this.now() < head.end + stallMs) return;
      this.pending.delete(head.key);
      this.emitted.add(head.key);
      this.opts.onWindow(this.merge(head, stallMs));
    }
  }

  private merge(p: PendingWindow, stallMs: number): Window {
    for (const m of this.members) {
      for (const part of p.parts.get(m.index) ?? []) this.tally(m, part);
      if ((p.parts.get(m.index)?.length ?? 0) < m.workers) m.windowsMissing++;
    }
    return mergeAgentParts(this.windowIndex++, p.parts, this.members, this.model, p.end + stallMs);
  }

  private tally(m: Member, part: WireWindow): void {
    m.sent += part.sent;
    m.requests += requestsIn(part);
  }

  agents(): AgentSummary[] {
    return this.members.map((m) => ({
      index: m.index,
      name: m.name,
      workers: m.workers,
      clockOffsetMs: m.offsetMs,
      roundTripMs: m.rttMs,
      sent: m.sent,
      requests: m.requests,
      windowsMissing: m.windowsMissing,
      lateRequests: m.lateRequests,
      lost: m.goneReason,
    }));
  }

  private broadcast(m: ToAgent): void {
    for (const mem of this.members) if (mem.index > 0 && mem.state === 'ready') mem.link?.send(m);
  }

  runStage(plan: StagePlan, index: number, startAt: number): void {
    this.model = plan.model;
    const stage: AgentStage = { index, startAt, durationMs: plan.durationMs, model: plan.model, rateFrom: plan.rateFrom, rateTo: plan.rateTo, concurrency: plan.concurrency };
    this.broadcast({ type: 'stage', stage });
    this.local?.runStage(plan, index, startAt);
  }

  private checkDone(): void {
    if (this.doneWait && this.members.every((m) => m.index === 0 || m.state === 'done' || m.state === 'gone' || m.state === 'joining')) this.doneWait();
  }

  /** Tells every agent to stop sending at once, waits for their final windows (grace + 3 s at most), shuts down. */
  async stop(graceMs: number, reason?: string): Promise<WireWindow[]> {
    this.stopping = true;
    this.barrier?.reject(new AbortError(reason ?? 'stopped before the start'));
    const allDone = new Promise<void>((resolve) => (this.doneWait = resolve));
    // Agents still starting up are told too: they stop before they send anything.
    for (const m of this.members) if (m.index > 0 && (m.state === 'ready' || m.state === 'joining')) m.link?.send({ type: 'stop', graceMs, reason });
    this.checkDone();
    await this.local?.stop(graceMs);
    await Promise.race([allDone, new Promise<void>((r) => setTimeout(r, graceMs + 3000).unref())]);
    if (this.ticker) clearInterval(this.ticker);
    this.emitReady(true);
    for (const m of this.members) {
      if (m.index > 0 && m.state === 'ready') this.lose(m, 'no final windows after the stop');
      // Destroyed, not ended: a stalled agent (SIGSTOPped, wedged) never closes its side, and the
      // listener's close waits for every connection.
      m.link?.socket.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    return this.finals;
  }
}

function requestsIn(part: WireWindow): number {
  let n = 0;
  for (const s of Object.values(part.byName)) n += s.requests;
  return n;
}

/** An agent as the merge sees it. */
export interface AgentShare {
  index: number;
  name: string;
  /** Worker windows it sends per window. */
  workers: number;
  /** Its connection slots (connections × pipelining). */
  slots: number;
  state?: string;
  goneAt?: number;
  goneReason?: string;
}

/**
 * One window from every agent's worker windows: merged exactly as one process
 * merges its workers (HDR add, counters add), then each agent's share checked
 * on its own: missing (dead, or stalled past `deadline`) or generator-limited
 * agents are named in agentProblems.
 */
export function mergeAgentParts(index: number, parts: ReadonlyMap<number, readonly WireWindow[]>, agents: readonly AgentShare[], model: 'open' | 'closed', deadline: number): Window {
  const all = [...parts.values()].flat();
  const slots = agents.reduce((a, m) => a + m.slots, 0);
  const w = mergeWindows(index, all, model, slots);
  if (agents.length === 1) return w;
  const problems: AgentProblem[] = [];
  const limited: string[] = [];
  for (const m of agents) {
    const got = parts.get(m.index) ?? [];
    if (got.length < m.workers || m.workers === 0) {
      const gone = m.state === 'gone' && m.goneAt !== undefined && m.goneAt <= deadline;
      problems.push(
        gone
          ? { agent: m.name, problem: 'dead', detail: `lost (${m.goneReason}); ${got.length} of ${m.workers} worker windows arrived` }
          : { agent: m.name, problem: 'stalled', detail: `${got.length} of ${m.workers} worker windows arrived in time` },
      );
      continue;
    }
    const g = judgeGenerator(got, model, m.slots);
    if (g.limited) {
      problems.push({ agent: m.name, problem: 'generator-limited', detail: g.reason ?? 'the agent could not keep its schedule' });
      limited.push(`${m.name}: ${g.reason}`);
    }
  }
  // Each agent judged on its own CPU: one saturated agent is the limit even when the others idle.
  w.generator.limited = limited.length > 0;
  if (limited.length) w.generator.reason = limited.join('; ');
  if (problems.length) w.agentProblems = problems;
  return w;
}
