/**
 * `faultline agent`: one agent of a scale-out run (a pod of the Indexed Job that
 * `faultline k8s` writes, or a child of `run --agents N`). Agent 0 (index 0)
 * runs the scenario as `run` does, coordinating the others; every other agent
 * needs only agent 0's address. The index comes from --index or
 * JOB_COMPLETION_INDEX (set by Kubernetes in an Indexed Job).
 */
import type { Command } from 'commander';
import { addScenarioFlags, resolveScenario, type ScenarioFlags } from './options.ts';
import { addRunOutputFlags, parseAgents, parseFlagDuration, runAndReport } from './run.ts';
import type { OutputFlags } from '../report/index.ts';
import { parseHostPort } from '../config/units.ts';
import { UsageError } from '../errors.ts';
import { Fleet } from '../agents/fleet.ts';
import { runAgent } from '../agents/agent.ts';
import { AGENT_PORT } from '../agents/messages.ts';


interface AgentFlags extends ScenarioFlags, OutputFlags {
  index?: string;
  agents?: string;
  coordinator?: string;
  listen?: string;
  joinTimeout?: string;
  maxSkew?: string;
  quiet?: boolean;
  color?: boolean;
}

export function register(program: Command): void {
  addRunOutputFlags(addScenarioFlags(program.command('agent').argument('[scenario]', 'scenario file (agent 0 only; the others get what they run from agent 0)').description('one agent of a scale-out run (see `faultline k8s`)')))
    .option('--index <k>', 'this agent\'s index, 0…N−1 (default: $JOB_COMPLETION_INDEX)')
    .option('--agents <n>', 'agents in the run (default: $FAULTLINE_AGENTS)')
    .option('--coordinator <host:port>', `agent 0's address, for agents 1…N−1 (default: $FAULTLINE_COORDINATOR)`)
    .option('--listen <[host:]port>', `agent 0: where to wait for the others (default ${AGENT_PORT} on every interface)`)
    .option('--join-timeout <duration>', 'agent 0: how long the start barrier waits; others: how long to keep trying to reach agent 0 (default 5m)')
    .option('--max-skew <duration>', 'agent 0: largest clock offset between agents a run accepts (default 50ms)')
    .action(async (file: string | undefined, flags: AgentFlags) => {
      const index = parseIndex(flags.index ?? process.env.JOB_COMPLETION_INDEX);
      const agents = parseAgents(flags.agents ?? process.env.FAULTLINE_AGENTS);
      if (agents === undefined) throw new UsageError('agent: say how many agents run (--agents N or FAULTLINE_AGENTS)');
      if (index >= agents) throw new UsageError(`agent: --index ${index} is not below --agents ${agents}`);
      const joinMs = flags.joinTimeout === undefined ? 300_000 : parseFlagDuration(flags.joinTimeout, '--join-timeout');
      const ac = new AbortController();
      if (index === 0) {
        const listen = parseListen(flags.listen);
        const maxSkewMs = flags.maxSkew === undefined ? 50 : parseFlagDuration(flags.maxSkew, '--max-skew');
        const scenario = await resolveScenario(file, flags);
        const log = flags.quiet ? undefined : (line: string) => process.stderr.write(`  ${line}\n`);
        log?.(`agent 0 of ${agents}: waiting for ${agents - 1} agent(s) on ${listen.host ?? '*'}:${listen.port}`);
        process.exitCode = await runAndReport(scenario, flags, process.argv.slice(2).join(' '), {
          makeEngine: (opts, ctx) => new Fleet(opts, { agents, listen, barrierMs: joinMs, maxSkewMs, log }, ctx),
          agents,
        });
        return;
      }
      const coord = flags.coordinator ?? process.env.FAULTLINE_COORDINATOR;
      const at = coord === undefined ? undefined : parseHostPort(coord);
      if (!at) throw new UsageError(`agent ${index}: --coordinator: expected agent 0's host:port, got ${JSON.stringify(coord ?? '')}`);
      const workers = flags.workers === undefined ? undefined : Number(flags.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new UsageError(`--workers: expected a whole number ≥ 1, got ${JSON.stringify(flags.workers)}`);
      const onSignal = (sig: NodeJS.Signals) => ac.abort(`agent ${index} stopped by ${sig}`);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const out = await runAgent({ index, agents, coordinator: at, joinTimeoutMs: joinMs, workers, signal: ac.signal, log: flags.quiet ? undefined : log });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (out.exitCode !== 0 || !flags.quiet) log(`agent ${index}: ${out.reason}`);
      process.exitCode = out.exitCode;
    });
}

function parseIndex(v: string | undefined): number {
  if (v === undefined) throw new UsageError('agent: say which agent this is (--index K, or JOB_COMPLETION_INDEX in an Indexed Job)');
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`agent: --index: expected a whole number ≥ 0, got ${JSON.stringify(v)}`);
  return n;
}

/** "7070" → every interface; "127.0.0.1:7070" → that address. */
function parseListen(v: string | undefined): { host?: string; port: number } {
  if (v === undefined) return { port: AGENT_PORT };
  if (/^\d{1,5}$/.test(v) && Number(v) <= 65535) return { port: Number(v) };
  const hp = parseHostPort(v);
  if (!hp) throw new UsageError(`--listen: expected a port or host:port, got ${JSON.stringify(v)}`);
  return hp;
}
