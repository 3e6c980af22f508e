import type { Command } from 'commander';
import { loadResult } from '../report/load.ts';
import { publish, checkOutputs, type OutputFlags } from '../report/index.ts';
import { UsageError } from '../errors.ts';
import { mergeResults } from '../agents/mergeResults.ts';

interface MergeFlags extends OutputFlags {
  quiet?: boolean;
  color?: boolean;
}

/**
 * `faultline merge a.json b.json … [--json out.json]`: result files of runs that
 * shared one load, combined exactly into one result (window by window, HDR add),
 * judged again, reported, and exited with the merged verdict's code.
 */
export function register(program: Command): void {
  program
    .command('merge')
    .argument('<results...>', 'result files written by `run --json` (two or more)')
    .description('combine result files of runs that shared one load into one result, exactly')
    .option('--json <file>', 'write the merged result as JSON')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--junit <file>', 'write JUnit XML')
    .option('--hdr-log <file>', 'write latency as an HdrHistogram interval log')
    .option('-q, --quiet', 'print only the verdict')
    .option('--no-color', 'plain output')
    .action(async (files: string[], flags: MergeFlags) => {
      const problems = checkOutputs(flags);
      if (files.length < 2) problems.push('merge: give at least two result files');
      if (problems.length > 0) throw new UsageError(problems);
      const rs = [];
      for (const f of files) rs.push({ file: f, result: await loadResult(f) });
      const merged = mergeResults(rs, process.argv.slice(2).join(' '));
      const out = await publish(merged, flags, { quiet: flags.quiet, plain: flags.color === false });
      process.exitCode = out.outcome.exitCode;
    });
}
