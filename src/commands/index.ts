/** Every CLI command, by name: a command is a file and a line. */
import type { Command } from 'commander';
import * as runCmd from './run.ts';
import * as validateCmd from './validate.ts';
import * as proxyCmd from './proxy.ts';
import * as recoverCmd from './recover.ts';

export interface CliCommand {
  register(program: Command): void;
}

export const commands: Record<string, CliCommand> = {
  run: runCmd,
  validate: validateCmd,
  proxy: proxyCmd,
  recover: recoverCmd,
  demo: await import('./demo.ts'),
  report: await import('./report.ts'),
  compare: await import('./compare.ts'),
  agent: await import('./agent.ts'),
  k8s: await import('./k8s.ts'),
  merge: await import('./merge.ts'),
};
