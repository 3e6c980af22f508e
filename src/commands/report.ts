import type { Command } from 'commander';
import { loadResult } from '../report/load.ts';
import { publish, checkOutputs, reporters, type OutputFlags } from '../report/index.ts';
import { addOutputFlags } from './flags.ts';
import { UsageError } from '../errors.ts';

interface ReportFlags extends OutputFlags {
  quiet?: boolean;
  color?: boolean;
}

/**
 * `faultline report result.json [--html f] [--junit f] [--hdr-log f]`: re-renders
 * everything from a saved result — the same terminal report the run printed —
 * and exits with the run's exit code, so the verdict is reproduced too.
 */
export function register(program: Command): void {
  addOutputFlags(
    program
      .command('report')
      .argument('<result>', 'a result file written by `run --json`')
      .description(`re-render a saved result (redacted): the run's report, and any of ${Object.keys(reporters).map((n) => `--${n}`).join(', ')}`),
  )
    .option('-q, --quiet', 'print only the verdict')
    .option('--no-color', 'plain output')
    .action(async (file: string, flags: ReportFlags) => {
      const problems = checkOutputs(flags);
      if (problems.length > 0) throw new UsageError(problems);
      const r = await loadResult(file);
      const out = await publish(r, flags, { quiet: flags.quiet, plain: flags.color === false });
      process.exitCode = out.outcome.exitCode;
    });
}
