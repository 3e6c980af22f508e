/**
 * Every message between agent 0 (the coordinator) and the other agents: one
 * discriminated union each way, sent as one JSON object per line over TCP.
 *
 * Agent 0 holds the whole run: the scenario, the clock, the verdicts and the
 * faults. The other agents need nothing but its address: the welcome carries
 * what their load workers run (requests, connections, timeout, window) and
 * their segment of the schedule.
 */
import type { WireStage, WireWindow } from '../engine/messages.ts';
import type { Segment } from '../engine/schedule.ts';
import type { EngineOptions } from '../engine/engine.ts';

/** The port agent 0 listens on by default (the headless Service's port in a cluster). */
export const AGENT_PORT = 7070;

/** Bumped when the messages change: agents of another protocol are refused at the barrier. */
export const AGENT_PROTOCOL = 1;

/**
 * What an agent's load engine runs, as agent 0 resolved it from the scenario:
 * the engine's own options without the callbacks (connections: this agent's share).
 */
export type AgentEngineConfig = Omit<EngineOptions, 'tls' | 'segment' | 'onPart' | 'onWindow' | 'onFatal'>;

/** A stage as every agent runs it: a worker's stage shape, with the whole stage's rates and concurrency (each agent takes its segment of it). */
export type AgentStage = WireStage;

export type ToAgent =
  /** A clock probe: the agent answers at once with its own time. */
  | { type: 'clock'; id: number; t0: number }
  /** Admitted: start the load workers. offsetMs = agent clock − agent 0's clock. */
  | { type: 'welcome'; segment: Segment; offsetMs: number; engine: AgentEngineConfig }
  | { type: 'stage'; stage: AgentStage }
  /** Stop sending now, let requests in flight finish up to graceMs, send the final windows, then 'done'. */
  | { type: 'stop'; graceMs: number; reason?: string }
  /** Not admitted (clock skew, wrong index, another protocol): the agent exits with this reason. */
  | { type: 'refuse'; reason: string };

export type FromAgent =
  | { type: 'hello'; index: number; agents: number; protocol: number; version: string; host: string; pid: number; workers?: number }
  | { type: 'clock-reply'; id: number; t0: number; t: number }
  /** Load workers started; `slots` = connections × pipelining across them. */
  | { type: 'ready'; workers: number; slots: number }
  /** One worker's window, its times already on agent 0's clock. */
  | { type: 'part'; worker: number; window: WireWindow; final: boolean }
  | { type: 'done' }
  /** The agent stops on its own (a signal, a worker that failed). */
  | { type: 'leaving'; reason: string };
