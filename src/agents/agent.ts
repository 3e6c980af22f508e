/**
 * An agent other than agent 0: it joins agent 0, answers its clock probes,
 * runs its segment of every stage on its own load workers and streams every
 * worker's window to agent 0, stamped on agent 0's clock. It judges nothing and
 * injects nothing. It stops sending the moment agent 0 says stop, or the moment
 * it loses agent 0 (it never sends load nobody is measuring).
 */
import net from 'node:net';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Engine } from '../engine/engine.ts';
import type { WireWindow } from '../engine/messages.ts';
import type { StagePlan } from '../profiles/types.ts';
import { VERSION } from '../version.ts';
import { Link } from './link.ts';
import { AGENT_PROTOCOL, type FromAgent, type ToAgent } from './messages.ts';

export interface AgentOptions {
  /** This agent's index, 1…agents−1 (agent 0 coordinates: see Fleet). */
  index: number;
  agents: number;
  /** Agent 0's address. */
  coordinator: { host: string; port: number };
  /** How long to keep trying to reach agent 0 (it may start later, or its name may not resolve yet), ms. */
  joinTimeoutMs: number;
  /** Load worker threads here (default: what agent 0 says). */
  workers?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** This agent's clock (tests shift it to check the skew refusal). */
  now?: () => number;
}

export interface AgentOutcome {
  /** 0: ran to agent 0's stop; 3: refused, lost agent 0, or stopped by a signal. */
  exitCode: number;
  reason: string;
}

export async function runAgent(o: AgentOptions): Promise<AgentOutcome> {
  const now = o.now ?? (() => performance.timeOrigin + performance.now());
  const log = o.log ?? (() => {});
  const socket = await connectWithRetry(o);
  if (!socket) return { exitCode: 3, reason: `agent 0 at ${o.coordinator.host}:${o.coordinator.port} could not be reached within ${Math.round(o.joinTimeoutMs / 1000)} s` };
  return new Promise<AgentOutcome>((resolve) => {
    let engine: Engine | undefined;
    let offset = 0;
    let finished = false;
    let stopping: Promise<unknown> | undefined;
    /** Agent 0 said stop: its closing the connection afterwards is the normal end. */
    let stopReason: string | undefined;
    const finish = async (outcome: AgentOutcome, graceMs: number) => {
      if (finished) return;
      finished = true;
      stopping ??= engine?.stop(graceMs).catch(() => []);
      await stopping;
      link.end();
      resolve(outcome);
    };
    const toCoordinator = (w: WireWindow): WireWindow => (offset === 0 ? w : { ...w, start: w.start - offset, end: w.end - offset });
    const link = new Link<ToAgent, FromAgent>(
      socket,
      (m) => {
        switch (m.type) {
          case 'clock':
            link.send({ type: 'clock-reply', id: m.id, t0: m.t0, t: now() });
            break;
          case 'refuse':
            void finish({ exitCode: 3, reason: `agent 0 refused this agent: ${m.reason}` }, 0);
            break;
          case 'welcome': {
            offset = m.offsetMs;
            const e = m.engine;
            const workers = o.workers ?? e.workers;
            engine = new Engine({
              ...e,
              workers,
              segment: m.segment,
              onPart: (part, worker, final) => link.send({ type: 'part', worker, window: toCoordinator(part), final }),
              onWindow: () => {},
              onFatal: (message) => {
                link.send({ type: 'leaving', reason: message });
                void finish({ exitCode: 4, reason: message }, 0);
              },
            });
            engine.start().then(
              () => link.send({ type: 'ready', workers, slots: Math.max(1, Math.floor(e.connections / workers)) * workers * e.pipelining }),
              (err: Error) => {
                link.send({ type: 'leaving', reason: `load workers did not start: ${err.message}` });
                void finish({ exitCode: 4, reason: err.message }, 0);
              },
            );
            log(`agent ${o.index} of ${o.agents}: admitted (clock offset ${offset.toFixed(1)} ms), ${workers} worker(s)`);
            break;
          }
          case 'stage': {
            const s = m.stage;
            const plan: StagePlan = { label: '', kind: 'load', model: s.model, rateFrom: s.rateFrom, rateTo: s.rateTo, concurrency: s.concurrency, durationMs: s.durationMs, warmupMs: 0 };
            // Agent 0's start time on this agent's clock.
            engine?.runStage(plan, s.index, s.startAt + offset);
            break;
          }
          case 'stop':
            stopReason = m.reason ?? 'stopped by agent 0';
            // Stop sending now; the engine's final windows go out through onPart before 'done'.
            stopping = (engine?.stop(m.graceMs) ?? Promise.resolve()).then(() => link.send({ type: 'done' }));
            void stopping.then(() => finish({ exitCode: 0, reason: m.reason ?? 'stopped by agent 0' }, 0));
            break;
        }
      },
      (err) => void finish(stopReason !== undefined ? { exitCode: 0, reason: stopReason } : { exitCode: 3, reason: `lost agent 0${err ? `: ${err.message}` : ''}; stopped sending` }, 0),
    );
    link.send({ type: 'hello', index: o.index, agents: o.agents, protocol: AGENT_PROTOCOL, version: VERSION, host: hostname(), pid: process.pid, workers: o.workers });
    o.signal?.addEventListener(
      'abort',
      () => {
        link.send({ type: 'leaving', reason: String(o.signal!.reason ?? 'signal') });
        void finish({ exitCode: 3, reason: String(o.signal!.reason ?? 'aborted') }, 1000);
      },
      { once: true },
    );
  });
}

/** Connects to agent 0, retrying (it may not listen yet, or its DNS name may not exist yet). */
async function connectWithRetry(o: AgentOptions): Promise<net.Socket | undefined> {
  const deadline = Date.now() + o.joinTimeoutMs;
  while (Date.now() < deadline && !o.signal?.aborted) {
    const s = await new Promise<net.Socket | undefined>((resolve) => {
      const sock = net.connect({ host: o.coordinator.host, port: o.coordinator.port });
      const t = setTimeout(() => {
        sock.destroy();
        resolve(undefined);
      }, 3000);
      sock.once('connect', () => {
        clearTimeout(t);
        resolve(sock);
      });
      sock.once('error', () => {
        clearTimeout(t);
        resolve(undefined);
      });
    });
    if (s) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}
