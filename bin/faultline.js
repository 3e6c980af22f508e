#!/usr/bin/env node
// Entry point. faultline is TypeScript run directly by Node's type stripping
// (Node >= 22.19). If started by an older Node (the machines here have Node 20),
// re-run with the project's pinned Node from node_modules when it is there.
//
// The re-run is a child, so the two processes must behave as one (Node cannot exec):
// - every catchable signal sent to the wrapper is forwarded to the child;
// - the child holds one end of a socket pair (fd 3, FAULTLINE_WRAPPER_FD): when the
//   wrapper dies, even by SIGKILL, the child reads EOF and stops as on SIGTERM
//   (load stopped, faults undone, measured data written), so no run is orphaned;
// - the child's exit passes through unchanged: its code, or its signal (the wrapper
//   re-raises it on itself, so a shell sees SIGKILL as SIGKILL, not as exit 143).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Socket } from 'node:net';

const FORWARD = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGWINCH', 'SIGCONT', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ', 'SIGPWR'];
// Job control: forwarded, then the wrapper stops itself too, so the shell sees the job stopped.
const STOP = ['SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

const [maj, min] = process.versions.node.split('.').map(Number);
const tooOld = maj < 22 || (maj === 22 && min < 19);
// FAULTLINE_WRAP=1 forces the wrapper on any Node (tests of the process model on machines with a new system Node).
const wrapperFd = process.env.FAULTLINE_WRAPPER_FD;
if ((tooOld || process.env.FAULTLINE_WRAP === '1') && wrapperFd === undefined) {
  const pinned = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`faultline: needs Node >= 22.19 (this is ${process.version}); run it through npm (npm start, npx faultline) or install Node 24`);
    process.exit(2);
  }
  // The pinned Node goes first on PATH too, so services a scenario starts with `command: node` get it.
  const env = { ...process.env, PATH: `${dirname(pinned)}:${process.env.PATH ?? ''}`, FAULTLINE_WRAPPER_FD: '3' };
  delete env.FAULTLINE_WRAP;
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env });
  child.stdio[3].on('error', () => {});
  const send = (sig) => {
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  const handlers = new Map();
  for (const sig of FORWARD) handlers.set(sig, () => send(sig));
  for (const sig of STOP)
    handlers.set(sig, () => {
      send(sig);
      process.kill(process.pid, 'SIGSTOP');
    });
  for (const [sig, h] of handlers) process.on(sig, h);
  child.on('error', (e) => {
    console.error(`faultline: cannot start ${pinned}: ${e.message}`);
    process.exit(4);
  });
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 4);
    // Die of the same signal: drop our handler so the default action applies.
    for (const [sig, h] of handlers) process.off(sig, h);
    try {
      process.kill(process.pid, signal);
    } catch {
      /* not a signal we can raise */
    }
    // A signal whose default action does not terminate (or that is ignored here): the shell's convention.
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100);
  });
} else {
  if (wrapperFd !== undefined) watchWrapper(Number(wrapperFd));
  const { main } = await import('../src/cli.ts');
  await main(process.argv);
  // Exit explicitly once the command is done: a scenario module's own timers (or a top-level
  // await that never settled) must not keep faultline alive after its answer.
  process.exit();
}

/** In the child: the wrapper's end of the socket pair closes when it dies; stop as on SIGTERM. */
function watchWrapper(fd) {
  delete process.env.FAULTLINE_WRAPPER_FD; // not for the processes faultline starts
  const wrapperPid = process.ppid;
  let sock;
  try {
    sock = new Socket({ fd, readable: true, writable: false });
  } catch {
    return; // no such fd: started by hand with the variable set
  }
  let once = false;
  const gone = () => {
    if (once) return;
    once = true;
    process.stderr.write(`\nfaultline: the process that started this one (pid ${wrapperPid}) is gone: stopping as on SIGTERM\n`);
    process.kill(process.pid, 'SIGTERM');
  };
  sock.on('data', () => {});
  sock.once('end', gone);
  sock.once('error', gone);
  sock.unref();
}
