import type { Command } from 'commander';
import { addScenarioFlags, resolveScenario, type ScenarioFlags } from './options.ts';
import { run } from '../coordinator.ts';
import { paint } from '../report/format.ts';
import { liveLine } from '../report/terminal.ts';
import { publish, checkOutputs, type OutputFlags } from '../report/index.ts';
import { redact, redactText } from '../report/redact.ts';
import { EXIT, UsageError } from '../errors.ts';
import type { Result } from '../result.ts';

interface RunFlags extends ScenarioFlags, OutputFlags {
  quiet?: boolean;
  color?: boolean;
}

export function addOutputFlags(c: Command): Command {
  return c
    .option('--json <file>', 'write the whole result (Timeline included) as JSON')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--junit <file>', 'write JUnit XML (a test case per hypothesis clause and per fault)')
    .option('--hdr-log <file>', 'write latency as an HdrHistogram interval log')
    .option('-q, --quiet', 'no live view; print only the verdict')
    .option('--no-color', 'plain output');
}

export function register(program: Command): void {
  addOutputFlags(addScenarioFlags(program.command('run').argument('[scenario]', 'scenario file (.ts, .js, .json, .yaml)').description('run a load test (with faults, when the scenario has them)'))).action(
    async (file: string | undefined, flags: RunFlags) => {
      const scenario = await resolveScenario(file, flags);
      process.exitCode = await runAndReport(scenario, flags, process.argv.slice(2).join(' '));
    },
  );
}

/** Runs with the terminal attached: live view, signals, outputs, exit code. Shared by `run` and `demo`. */
export async function runAndReport(scenario: Parameters<typeof run>[0], flags: RunFlags, command: string, extra: { stateDir?: string; title?: string } = {}): Promise<number> {
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
