/**
 * `run --agents N` on one machine: agent 0 is this process (the coordinator and
 * a share of the load); agents 1…N−1 are child processes of `faultline agent`,
 * pointed at agent 0's loopback port once it listens. Children lose agent 0
 * when this process dies and stop sending at once; those still running after
 * the run are killed by their pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineOptions, LoadEngine } from '../engine/engine.ts';
import { Fleet, type EngineContext } from './fleet.ts';

const BIN = fileURLToPath(new URL('../../bin/faultline.js', import.meta.url));

export interface LocalAgentsOptions {
  agents: number;
  maxSkewMs?: number;
  barrierMs?: number;
  /** Load workers per agent (default: the scenario's). */
  workers?: number;
  log?: (line: string) => void;
}

export interface LocalAgents {
  makeEngine: (opts: EngineOptions, ctx: EngineContext) => LoadEngine;
  /** Child pids, agent 1 first (tests kill one to check what the run says). */
  pids(): number[];
  /** Waits for the children to exit (they do after agent 0's stop); kills those still there after `ms`. */
  close(ms?: number): Promise<void>;
}

export function localAgents(o: LocalAgentsOptions): LocalAgents {
  const children: ChildProcess[] = [];
  const log = o.log ?? (() => {});
  return {
    pids: () => children.map((c) => c.pid!).filter((p) => p !== undefined),
    makeEngine: (opts, ctx) => {
      const fleet: Fleet = new Fleet(
        { ...opts, workers: o.workers ?? opts.workers },
        {
          agents: o.agents,
          listen: { host: '127.0.0.1', port: 0 },
          barrierMs: o.barrierMs ?? 30_000,
          maxSkewMs: o.maxSkewMs ?? 50,
          log,
          onListening: (port) => {
            for (let k = 1; k < o.agents; k++) {
              const args = [BIN, 'agent', '--index', String(k), '--agents', String(o.agents), '--coordinator', `127.0.0.1:${port}`, '--join-timeout', '30s'];
              if (o.workers !== undefined) args.push('--workers', String(o.workers));
              const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
              child.stderr!.setEncoding('utf8');
              let buf = '';
              let lastLine = '';
              child.stderr!.on('data', (d: string) => {
                buf += d;
                let nl: number;
                while ((nl = buf.indexOf('\n')) >= 0) {
                  const line = buf.slice(0, nl);
                  if (line.trim()) lastLine = line.trim();
                  log(`[agent ${k}] ${line}`);
                  buf = buf.slice(nl + 1);
                }
              });
              // A child that ends is lost at once (the barrier fails now, not at its timeout).
              child.once('exit', (code, signal) => fleet.agentExited(k, `its process ended (${signal ?? `exit code ${code}`})${lastLine ? `: ${lastLine}` : ''}`));
              children.push(child);
            }
          },
        },
        ctx,
      );
      return fleet;
    },
    close: async (ms = 5000) => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const t = setTimeout(() => {
                c.kill('SIGKILL');
                resolve();
              }, ms);
              c.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
            }),
        ),
      );
    },
  };
}
