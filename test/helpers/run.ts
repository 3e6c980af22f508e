/** Runs faultline in tests: through the library (fast) or the CLI (a real process, real exit code). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { normalize } from '../../src/config/scenario.ts';
import { run } from '../../src/coordinator.ts';
import type { ScenarioInput } from '../../src/config/schema.ts';
import type { Result } from '../../src/result.ts';

export const BIN = fileURLToPath(new URL('../../bin/faultline.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function runScenario(input: ScenarioInput, opts: Parameters<typeof run>[1] = {}): Promise<Result> {
  return run(normalize(input), opts);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `faultline ...args`, bounded by `timeoutMs` (killed after it). */
export function cli(args: string[], opts: { timeoutMs?: number; env?: Record<string, string>; cwd?: string; onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    opts.onSpawn?.(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
