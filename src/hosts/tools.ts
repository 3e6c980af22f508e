/**
 * The programs a host needs (`ip` and `tc` from iproute2, `nft` from nftables)
 * and root, checked once; and a strict runner for them (no shell).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runArgv } from '../faults/shell.ts';

/** Where a program is on PATH (or the sbin directories, which a non-login PATH may lack). */
export function which(program: string, path = process.env.PATH ?? '', sbin = true): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), ...(sbin ? ['/usr/sbin', '/sbin'] : [])]) {
    const p = join(dir, program);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const TOOLS = [
  { program: 'ip', from: 'iproute2' },
  { program: 'tc', from: 'iproute2' },
  { program: 'nft', from: 'nftables' },
  { program: 'sysctl', from: 'procps' },
] as const;

/**
 * What is missing for a service to run as its own host, in one phrase
 * ("root (running as uid 1000), nft (Debian package nftables)"), or undefined
 * when nothing is. FAULTLINE_HOST_PATH replaces PATH for the look-up (tests).
 */
export function missingForHosts(): string | undefined {
  const missing: string[] = [];
  const uid = process.getuid?.();
  if (uid !== 0) missing.push(`root (running as uid ${uid ?? '?'})`);
  const path = process.env.FAULTLINE_HOST_PATH;
  for (const t of TOOLS) {
    if (!which(t.program, path ?? process.env.PATH, path === undefined)) missing.push(`${t.program} (Debian package ${t.from})`);
  }
  return missing.length ? missing.join(', ') : undefined;
}

/** Runs a program faultline chose; throws one line with its output when it fails. */
export async function run(argv: string[], timeoutMs = 10_000): Promise<string> {
  const r = await runArgv(argv, { timeoutMs });
  if (r.code !== 0) {
    // nft prints the error, then the offending line and a caret under it: the error is the line to keep.
    const lines = r.output.trim().split('\n').filter(Boolean);
    const why = lines.find((l) => /Error/.test(l)) ?? lines.pop() ?? (r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`);
    throw new Error(`${argv.join(' ').slice(0, 200)}: ${why.slice(0, 300)}`);
  }
  return r.output;
}

/** Loads an nft script, in a namespace or the root one (through a temp file: runArgv gives the child no stdin). */
export async function nft(ns: string | undefined, script: string): Promise<void> {
  const { writeFile, unlink } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const file = join(tmpdir(), `faultline-nft-${process.pid}-${Math.random().toString(36).slice(2)}.nft`);
  await writeFile(file, script);
  try {
    await run(ns ? ['ip', 'netns', 'exec', ns, 'nft', '-f', file] : ['nft', '-f', file]);
  } finally {
    await unlink(file).catch(() => {});
  }
}

/** `nft -j` output of a table's named counters: name → {packets, bytes}. */
export async function nftCounters(ns: string | undefined, family: string, table: string): Promise<Record<string, { packets: number; bytes: number }>> {
  const argv = ['nft', '-j', 'list', 'counters', 'table', family, table];
  const out = await run(ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv);
  const json = JSON.parse(out) as { nftables: ({ counter?: { name: string; packets: number; bytes: number } } | Record<string, unknown>)[] };
  const counters: Record<string, { packets: number; bytes: number }> = {};
  for (const item of json.nftables) {
    const c = (item as { counter?: { name: string; packets: number; bytes: number } }).counter;
    if (c) counters[c.name] = { packets: c.packets, bytes: c.bytes };
  }
  return counters;
}
