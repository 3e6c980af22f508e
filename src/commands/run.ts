import type { Command } from 'commander';
import { addScenarioFlags, resolveScenario, type ScenarioFlags } from './options.ts';
import { addOutputFlags } from './flags.ts';
import { run, type RunOptions } from '../coordinator.ts';
import { localAgents } from '../agents/local.ts';
import { durationHint, parseDuration } from '../config/units.ts';
import { paint } from '../report/format.ts';
import { liveLine } from '../report/terminal.ts';
import { publish, checkOutputs, type OutputFlags } from '../report/index.ts';
import { redact, redactText } from '../report/redact.ts';
import { EXIT, UsageError } from '../errors.ts';
import type { Result } from '../result.ts';

interface RunFlags extends ScenarioFlags, OutputFlags {
  quiet?: boolean;
  color?: boolean;
  agents?: string;
  maxSkew?: string;
}

/** Output flags of the reporter table, and the terminal's (run and agent). */
export function addRunOutputFlags(c: Command): Command {
  return addOutputFlags(c).option('-q, --quiet', 'no live view; print only the verdict').option('--no-color', 'plain output');
}

export function register(program: Command): void {
  addRunOutputFlags(addScenarioFlags(program.command('run').argument('[scenario]', 'scenario file (.ts, .js, .json, .yaml)').description('run a load test (with faults, when the scenario has them)')))
    .option('--agents <n>', 'split the load over N local agent processes (agent 0 is this one; see `faultline k8s` for many machines)')
    .option('--max-skew <duration>', 'with --agents: largest clock offset between agents a run accepts (default 50ms)')
    .action(async (file: string | undefined, flags: RunFlags) => {
      const agents = parseAgents(flags.agents);
      const maxSkewMs = flags.maxSkew === undefined ? undefined : parseFlagDuration(flags.maxSkew, '--max-skew');
      const scenario = await resolveScenario(file, flags);
      const command = process.argv.slice(2).join(' ');
      if (agents === undefined) {
        process.exitCode = await runAndReport(scenario, flags, command);
        return;
      }
      const err = paint(process.stderr, flags.color === false);
      const local = localAgents({ agents, maxSkewMs, log: flags.quiet ? undefined : (line) => process.stderr.write(err.dim(`  ${line}\n`)) });
      try {
        process.exitCode = await runAndReport(scenario, flags, command, { makeEngine: local.makeEngine, agents });
      } finally {
        await local.close();
      }
    });
}

/** Runs with the terminal attached: live view, signals, outputs, exit code. Shared by `run` and `demo`. */
export async function runAndReport(
  scenario: Parameters<typeof run>[0],
  flags: RunFlags,
  command: string,
  extra: { stateDir?: string; title?: string; makeEngine?: RunOptions['makeEngine']; agents?: number } = {},
): Promise<number> {
  const err = paint(process.stderr, flags.color === false);
  // Output files are checked before any load is sent: a typo must not cost the run.
  const problems = checkOutputs(flags);
  if (problems.length > 0) throw new UsageError(problems);
  const ac = new AbortController();
  let interrupts = 0;
  let firstAt = 0;
  let crashed: Error | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    // A terminal's Ctrl-C reaches both faultline and, when Node re-ran itself, the wrapper
    // that forwards it (bin/faultline.js): the same signal twice within 300 ms is one press.
    if (interrupts === 1 && performance.now() - firstAt < 300) return;
    if (interrupts === 0) firstAt = performance.now();
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(err.yellow(`\nfaultline: ${sig}: stopping the load and undoing every fault (press Ctrl-C again to exit at once)\n`));
      ac.abort(`interrupted by ${sig}`);
    } else {
      process.stderr.write(err.red(`faultline: second ${sig}: exiting now; faults not yet undone are in the journal: run \`faultline recover\`\n`));
      process.exit(EXIT.aborted);
    }
  };
  const onCrash = (e: unknown) => {
    crashed ??= e instanceof Error ? e : new Error(String(e));
    ac.abort(`internal error: ${crashed.message}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const live = !flags.quiet;
  let result: Result;
  try {
    if (live && extra.title) process.stderr.write(err.bold(extra.title) + '\n');
    for (const w of scenario.warnings) process.stderr.write(err.yellow(`faultline: warning: ${w}\n`));
    result = await run(scenario, {
      signal: ac.signal,
      command,
      stateDir: extra.stateDir,
      makeEngine: extra.makeEngine,
      agents: extra.agents,
      onWindow: live ? (w, v, ctx) => process.stderr.write(redactText(liveLine(w, v, ctx, err)) + '\n') : undefined,
      onEvent: live
        ? (raw) => {
            const e = redact(raw);
            if (e.type === 'fault-start') process.stderr.write(err.magenta(`  ⚡ fault "${e.fault}" (${e.kind}) started at ${Math.round(e.offeredRate)} req/s\n`));
            else if (e.type === 'fault-stop') process.stderr.write(err.magenta(`  ⚡ fault "${e.fault}" undone\n`));
            else if (e.type === 'fault-error') process.stderr.write(err.red(`  ⚡ fault "${e.fault}" failed: ${e.message}\n`));
            else if (e.type === 'abort') process.stderr.write(err.yellow(`  ■ ${e.reason}\n`));
          }
        : undefined,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
  if (crashed) result.outcome = { exitCode: EXIT.internal, status: 'error', reason: `internal error: ${crashed.message}` };
  const published = await publish(result, flags, { stateDir: extra.stateDir ?? '.faultline', quiet: flags.quiet, plain: flags.color === false });
  return published.outcome.exitCode;
}

/** --agents: a whole number ≥ 1, or undefined when not given. */
export function parseAgents(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--agents: expected a whole number from 1 to 1000, got ${JSON.stringify(v)}`);
  return n;
}

export function parseFlagDuration(v: string, flag: string): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new UsageError(`${flag}: ${durationHint(v)}`);
  if (!(ms > 0)) throw new UsageError(`${flag}: expected a duration greater than zero, like "50ms", got ${JSON.stringify(v)}`);
  return ms;
}
