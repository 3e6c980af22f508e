import type { Command } from 'commander';
import { recover } from '../faults/recover.ts';
import { defaultJournalPath } from '../faults/journal.ts';
import { EXIT } from '../errors.ts';

/** `faultline recover [journal]`: undoes whatever a killed run left behind (paused processes, proxy toxics, exec undos). */
export function register(program: Command): void {
  program
    .command('recover')
    .argument('[journal]', 'journal file', defaultJournalPath())
    .description('undo faults a killed run left behind, from its journal')
    .option('--force', 'also undo entries of a faultline process that is still running')
    .action(async (journal: string, o: { force?: boolean }) => {
      const r = await recover(journal, { force: o.force });
      for (const u of r.undone) process.stdout.write(`undone: ${u}\n`);
      for (const s of r.skipped) process.stdout.write(`skipped (its run is still going): ${s.fault}\n`);
      for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
      for (const f of r.failed) process.stderr.write(`faultline: could not undo ${f.entry.fault}: ${f.error}\n`);
      if (!r.undone.length && !r.failed.length && !r.skipped.length) process.stdout.write('nothing to recover\n');
      process.exitCode = r.failed.length ? EXIT.aborted : EXIT.held;
    });
}
