/** What a faultline process started: its child processes, seen in /proc while it runs. */
import { readdirSync, readFileSync } from 'node:fs';
import { forceKill } from '../fixtures/proc.ts';

/** Pids whose parent is `pid` right now. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Records every child `pid` ever had, polling until stop(); kill() is the test's last-resort cleanup. */
export function watchChildren(pid: number, everyMs = 100): { seen: Set<number>; stop(): void; kill(): void } {
  const seen = new Set<number>();
  const look = () => childrenOf(pid).forEach((c) => seen.add(c));
  look();
  const t = setInterval(look, everyMs);
  return {
    seen,
    stop: () => clearInterval(t),
    kill: () => seen.forEach((c) => forceKill(-c)),
  };
}

/** The demo system's ports, from the intro lines `faultline demo` prints for each run. */
export function demoPorts(stderr: string): number[] {
  const out: number[] = [];
  for (const m of stderr.matchAll(/shop http:\/\/127\.0\.0\.1:(\d+) · payment 127\.0\.0\.1:(\d+) behind the fault proxy 127\.0\.0\.1:(\d+)/g)) out.push(Number(m[1]), Number(m[2]), Number(m[3]));
  return out;
}
