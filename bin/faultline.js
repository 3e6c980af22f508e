#!/usr/bin/env node
// Entry point. faultline is TypeScript run directly by Node's type stripping
// (Node >= 22.19). If started by an older Node (the machines here have Node 20),
// re-run with the project's pinned Node from node_modules when it is there.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const [maj, min] = process.versions.node.split('.').map(Number);
if (maj < 22 || (maj === 22 && min < 19)) {
  const pinned = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`faultline: needs Node >= 22.19 (this is ${process.version}); run it through npm (npm start, npx faultline) or install Node 24`);
    process.exit(2);
  }
  // The pinned Node goes first on PATH too, so services a scenario starts with `command: node` get it.
  const env = { ...process.env, PATH: `${dirname(pinned)}:${process.env.PATH ?? ''}` };
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  // The child gets Ctrl-C from the terminal itself; forward signals sent to this pid only, and
  // stay alive until the child has undone its faults and exited.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 143)));
} else {
  const { main } = await import('../src/cli.ts');
  await main(process.argv);
}
