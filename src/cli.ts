/**
 * The CLI is thin: each command parses its flags, resolves config and calls the
 * same functions the library exports. Bad usage is one line per problem and
 * exit 2, never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, UsageError } from './errors.ts';
import { VERSION } from './version.ts';
import { commands } from './commands/index.ts';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('faultline')
    .description('Load and stress testing with failure correlation: at what load, and under which fault, does the system stop meeting its hypothesis?')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showSuggestionAfterError(true);
  for (const c of Object.values(commands)) c.register(program);
  program.addOption(new Option('--no-color', 'plain output (also: NO_COLOR, or not a TTY)').hideHelp());
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.exitCode = handleError(e);
  }
}

/** Maps an error to its exit code, printing it as users should see it. */
export function handleError(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    // commander already printed its one-line message.
    return EXIT.usage;
  }
  if (e instanceof UsageError) {
    // One line per problem, always: a line break inside a problem (from the input itself) is shown escaped.
    for (const p of e.problems) process.stderr.write(`faultline: ${p.replace(/\r/g, '\\r').replace(/\n/g, '\\n')}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`faultline: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.internal;
}
