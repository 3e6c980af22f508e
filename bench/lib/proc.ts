/**
 * Child processes for the bench: pinned to a core with taskset, bounded by a
 * hard deadline, their resident memory sampled from /proc while they run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What a finished child left behind. */
export interface ProcResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Resident set size samples (MB), one per `rssEveryMs`, from the start. */
  rssMb: number[];
  /** Peak resident set size (VmHWM, MB) seen in the last sample. */
  peakRssMb: number;
  /** Load average (1, 5, 15 min) at start and at end, as `uptime` shows it. */
  loadBefore: number[];
  loadAfter: number[];
  /** CPU seconds (user + system) the child had used at its last sample (≤ 1 sample period short). */
  cpuSeconds: number;
}

export interface RunOptions {
  /** Cores as taskset takes them ("0", "1", "0,1"); undefined: not pinned. */
  cores?: string;
  /** Hard limit: the child is killed (SIGKILL) after this. */
  timeoutMs: number;
  rssEveryMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each stdout chunk (for children that report as they go). */
  onStdout?: (text: string) => void;
}

let tasksetOk: boolean | undefined;
/** taskset exists and this machine has the cores the bench pins to. */
export function canPin(): boolean {
  tasksetOk ??= spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return tasksetOk;
}

export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

function readStatus(pid: number): { rss: number; hwm: number; cpu: number } | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? 0);
    // utime and stime are fields 14 and 15 of /proc/pid/stat, in clock ticks (100 a second on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, cpu: (Number(f[11]) + Number(f[12])) / 100 };
  } catch {
    return undefined;
  }
}

/** Runs `cmd args` (pinned when asked and possible) to completion or its deadline. */
export function run(cmd: string, args: string[], o: RunOptions): Promise<ProcResult> {
  const pinned = o.cores !== undefined && canPin();
  const file = pinned ? 'taskset' : cmd;
  // taskset execs the command, so the pid we sample is the tool's own.
  const argv = pinned ? ['-c', o.cores!, cmd, ...args] : args;
  const t0 = performance.now();
  const loadBefore = loadAverage();
  return new Promise((resolve) => {
    const child = spawn(file, argv, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      stdout += s;
      o.onStdout?.(s);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const rssMb: number[] = [];
    let peak = 0;
    let cpu = 0;
    const sample = () => {
      const s = child.pid !== undefined ? readStatus(child.pid) : undefined;
      if (!s) return;
      rssMb.push(Math.round(s.rss * 10) / 10);
      peak = Math.max(peak, s.hwm);
      cpu = s.cpu;
    };
    const sampler = setInterval(sample, o.rssEveryMs ?? 1000);
    setTimeout(sample, 200);
    const killer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('error', (e) => {
      stderr += `${e.message}\n`;
    });
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(killer);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        wallMs: performance.now() - t0,
        rssMb,
        peakRssMb: Math.round(peak * 10) / 10,
        loadBefore,
        loadAfter: loadAverage(),
        cpuSeconds: cpu,
      });
    });
  });
}

/** First line of a command's output, or undefined when it cannot run. */
export function versionOf(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || (r.status !== 0 && !r.stdout && !r.stderr)) return undefined;
  return (r.stdout || r.stderr).trim().split('\n')[0];
}
