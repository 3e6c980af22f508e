import type { Command } from 'commander';
import { loadResult } from '../report/load.ts';
import { publish, checkOutputs, type OutputFlags } from '../report/index.ts';
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
  program
    .command('report')
    .argument('<result>', 'a result file written by `run --json`')
    .description("re-render a saved result: the run's report, and any of --html, --junit, --hdr-log, --json")
    .option('--json <file>', 'write the result again (redacted) as JSON')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--junit <file>', 'write JUnit XML (a test case per hypothesis clause and per fault)')
    .option('--hdr-log <file>', 'write latency as an HdrHistogram interval log')
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
