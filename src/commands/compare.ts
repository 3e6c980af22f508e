import type { Command } from 'commander';
import { loadResult } from '../report/load.ts';
import { prepare } from '../report/index.ts';
import { compareResults, mismatch, renderComparison, DEFAULT_THRESHOLDS, type CompareThresholds } from '../report/compare.ts';
import { paint } from '../report/format.ts';
import { parseDuration } from '../config/units.ts';
import { EXIT, UsageError } from '../errors.ts';

interface CompareFlags {
  maxCapacityDrop?: string;
  maxP99Rise?: string;
  minP99Delta?: string;
  maxErrorRise?: string;
  maxRecoveryRise?: string;
  color?: boolean;
}

/** "10%" or "10" (a bare number is a percentage). */
function fraction(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v);
  if (!m) throw new UsageError(`--${flag}: expected a percentage like "10%", got ${JSON.stringify(v)}`);
  return Number(m[1]) / 100;
}

/**
 * `faultline compare base.json new.json`: a regression gate between two runs of
 * the same scenario. Exit 1 on a regression, 0 otherwise, 2 on unreadable or
 * mismatched input.
 */
export function register(program: Command): void {
  program
    .command('compare')
    .argument('<base>', 'result of the reference run')
    .argument('<new>', 'result of the run to judge')
    .description('compare two runs of the same scenario: capacity, p99 and errors per load level, time to recovery per fault; exit 1 on a regression')
    .option('--max-capacity-drop <pct>', 'largest allowed capacity drop (default 10%)')
    .option('--max-p99-rise <pct>', 'largest allowed p99 rise at a common load level (default 20%)')
    .option('--min-p99-delta <duration>', 'a p99 rise counts only when at least this large (default 1ms)')
    .option('--max-error-rise <pct>', 'largest allowed error-rate rise, in percentage points (default 1%)')
    .option('--max-recovery-rise <pct>', 'largest allowed rise of a time to recovery, beyond one window (default 50%)')
    .option('--no-color', 'plain output')
    .action(async (baseFile: string, newFile: string, flags: CompareFlags) => {
      const th: CompareThresholds = {
        maxCapacityDrop: fraction('max-capacity-drop', flags.maxCapacityDrop, DEFAULT_THRESHOLDS.maxCapacityDrop),
        maxP99Rise: fraction('max-p99-rise', flags.maxP99Rise, DEFAULT_THRESHOLDS.maxP99Rise),
        minP99DeltaMs: DEFAULT_THRESHOLDS.minP99DeltaMs,
        maxErrorRise: fraction('max-error-rise', flags.maxErrorRise, DEFAULT_THRESHOLDS.maxErrorRise),
        maxRecoveryRise: fraction('max-recovery-rise', flags.maxRecoveryRise, DEFAULT_THRESHOLDS.maxRecoveryRise),
      };
      if (flags.minP99Delta !== undefined) {
        const d = parseDuration(/^\d+(\.\d+)?$/.test(flags.minP99Delta) ? Number(flags.minP99Delta) : flags.minP99Delta);
        if (d === undefined) throw new UsageError(`--min-p99-delta: expected a duration like "1ms", got ${JSON.stringify(flags.minP99Delta)}`);
        th.minP99DeltaMs = d;
      }
      const base = prepare(await loadResult(baseFile));
      const next = prepare(await loadResult(newFile));
      const why = mismatch(base, next);
      if (why) throw new UsageError(`cannot compare ${baseFile} with ${newFile}: ${why}`);
      const c = compareResults(base, next, th);
      process.stdout.write(renderComparison(c, paint(process.stdout, flags.color === false), [baseFile, newFile]) + '\n');
      process.exitCode = c.regressions.length ? EXIT.broke : EXIT.held;
    });
}
