import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { recover, type RecoverPlan } from '../faults/recover.ts';
import { defaultJournalPath, JournalKeyError } from '../faults/journal.ts';
import { EXIT, UsageError } from '../errors.ts';

/**
 * `faultline recover [journal]`: undoes whatever a killed run left behind (paused processes, proxy
 * toxics, exec undos). It prints what it will do first, and acts only with --yes, or on a terminal
 * after the user says yes: the journal is a file anyone with access to the directory could edit.
 */
export function register(program: Command): void {
  program
    .command('recover')
    .argument('[journal]', 'journal file', defaultJournalPath())
    .description('undo faults a killed run left behind, from its journal (shows what it will do; --yes to act)')
    .option('-y, --yes', 'act without asking (CI, scripts)')
    .option('--dry-run', 'only say what would be done')
    .option('--force', 'also undo entries of a faultline process that is still running')
    .action(async (journal: string, o: { yes?: boolean; dryRun?: boolean; force?: boolean }) => {
      const out = process.stdout;
      let declined = false;
      const confirm = async (plan: RecoverPlan): Promise<boolean> => {
        printPlan(plan);
        const todo = plan.steps.filter((s) => s.action === 'undo').length;
        if (todo === 0 || o.dryRun) return false;
        if (o.yes) return true;
        if (!process.stdin.isTTY || !process.stdout.isTTY) {
          declined = true;
          process.stderr.write(`faultline: nothing done: run again with --yes to undo ${todo} entr${todo === 1 ? 'y' : 'ies'} (no terminal to ask on)\n`);
          return false;
        }
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const a = await rl.question(`Undo ${todo === 1 ? 'this' : `these ${todo}`} now? [y/N] `);
        rl.close();
        declined = !/^y(es)?$/i.test(a.trim());
        if (declined) out.write('nothing done\n');
        return !declined;
      };
      let r;
      try {
        r = await recover(journal, { force: o.force, confirm });
      } catch (e) {
        if (e instanceof JournalKeyError) {
          process.stderr.write(`faultline: ${e.message}\n`);
          process.exitCode = EXIT.aborted;
          return;
        }
        if ((e as NodeJS.ErrnoException).code === 'EISDIR' || (e as NodeJS.ErrnoException).code === 'EACCES') throw new UsageError(`cannot read journal ${journal}: ${(e as Error).message}`);
        throw e;
      }
      for (const u of r.undone) out.write(`undone: ${u}\n`);
      for (const f of r.failed) process.stderr.write(`faultline: could not undo ${f.entry.fault}: ${f.error}\n`);
      if (declined) process.exitCode = EXIT.usage;
      else if (r.failed.length) process.exitCode = EXIT.aborted;
      else if (r.refused.length) process.exitCode = EXIT.usage;
      else process.exitCode = EXIT.held;
    });
}

function printPlan(plan: RecoverPlan): void {
  const out = process.stdout;
  const n = plan.steps.length + plan.refused.length;
  if (n === 0) {
    out.write('nothing to recover\n');
    return;
  }
  out.write(`${plan.journal}: ${n} open entr${n === 1 ? 'y' : 'ies'}\n`);
  const tag = { undo: 'will undo', note: 'note', skip: 'skip', refuse: 'refused' } as const;
  for (const s of plan.steps) out.write(`  ${tag[s.action]}: ${s.what}\n`);
  for (const r of plan.refused) out.write(`  refused: line ${r.line}${r.claims ? ` (${r.claims})` : ''}: ${r.reason}\n`);
  if (plan.refused.length || plan.steps.some((s) => s.action === 'refuse')) out.write(`  (refused entries are never acted on and stay in the journal; signatures are checked with ${plan.keyPath})\n`);
  if (!plan.steps.some((s) => s.action === 'undo')) out.write('nothing to undo\n');
}
