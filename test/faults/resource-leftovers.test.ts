/**
 * The leftover test for the resource and state kinds (cpu, memory, disk-fill,
 * hold, file): a stand-in faultline run is SIGKILLed at a random moment while
 * its fault starts or holds, then `recover` runs on its journal. Nothing may be
 * left: no cgroup, no filler file, no hog or held command, no service, the
 * file back byte for byte.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { recover } from '../../src/faults/recover.ts';
import { faultCgroupsUnder, findHierarchy } from '../../src/faults/cgroup.ts';
import { seededRandom } from '../../src/random.ts';
import { freePorts, isGone, waitFor } from '../fixtures/proc.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures');
const root = process.getuid?.() === 0;
const cgroups = findHierarchy('cpu')?.version === 1 && findHierarchy('memory')?.version === 1;
const base = mkdtempSync(join(tmpdir(), `fl15-${process.pid}-leftovers-`));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  rmSync(base, { recursive: true, force: true });
});

/** Processes whose environment carries this token: everything a stand-in run started. */
function withToken(token: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (readFileSync(`/proc/${n}/environ`, 'latin1').includes(`FL15_LEFTOVER=${token}`) && !isGone(Number(n))) out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 200);
  } catch {
    return '?';
  }
};

interface Case {
  kind: string;
  params: (dir: string) => Record<string, unknown>;
  /** Checks what only this kind could leave behind. */
  check?: (dir: string) => void;
  needs?: boolean;
}

const ORIGINAL = randomBytes(2000);
const cases: Case[] = [
  { kind: 'cpu', params: () => ({ cores: 0.3 }), needs: cgroups },
  { kind: 'cpu', params: () => ({ method: 'hog', hogs: 2 }) },
  { kind: 'memory', params: () => ({ limit: '256MiB' }), needs: cgroups },
  { kind: 'memory', params: () => ({ hog: '32MiB' }) },
  {
    kind: 'disk-fill',
    needs: root,
    params: (dir) => ({ path: join(dir, 'fs'), leave: '1MiB' }),
    check: (dir) => {
      expect(readdirSync(join(dir, 'fs')).filter((n) => n.startsWith('.faultline-fill-'))).toEqual([]);
      const s = spawnSync('df', ['-B1', '--output=used', join(dir, 'fs')]).stdout.toString().split('\n')[1].trim();
      expect(Number(s)).toBeLessThan(64 * 1024);
    },
  },
  { kind: 'hold', params: () => ({ command: 'echo held; exec sleep 60', ready: { line: 'held' } }) },
  {
    kind: 'file',
    params: (dir) => ({ path: join(dir, '.env'), action: 'replace', content: 'broken' }),
    check: (dir) => {
      expect(readFileSync(join(dir, '.env')).equals(ORIGINAL)).toBe(true);
      expect(readdirSync(dir).filter((n) => n.includes('.faultline-'))).toEqual([]);
    },
  },
];

async function trial(c: Case, moment: 'starting' | 'started', delayMs: number): Promise<void> {
  const dir = mkdtempSync(join(base, `${c.kind}-`));
  if (c.kind === 'disk-fill') {
    const fs = join(dir, 'fs');
    spawnSync('mkdir', [fs]);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', fs]).status).toBe(0);
    mounts.push(fs);
  }
  writeFileSync(join(dir, '.env'), ORIGINAL);
  const token = randomBytes(6).toString('hex');
  const [port] = await freePorts(1);
  const journal = join(dir, 'journal.jsonl');
  const keyPath = join(base, 'journal.key');
  const child = spawn(
    process.execPath,
    [join(fixtures, 'resource-fault-parent.ts'), journal, keyPath, String(port), join(dir, 'logs'), c.kind, JSON.stringify(c.params(dir))],
    { env: { ...process.env, FL15_LEFTOVER: token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (b) => (err += b));
  const reached = new Promise<boolean>((res) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      if (out.includes(`${moment}\n`)) res(true);
    });
    child.once('exit', () => res(false));
  });
  const ok = await Promise.race([reached, sleep(20_000).then(() => false)]);
  expect(ok, `${c.kind}: never reached "${moment}": ${out}${err}`).toBe(true);
  await sleep(delayMs);
  child.kill('SIGKILL');
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));

  const r = await recover(journal, { keyPath });
  const what = `${c.kind} ${JSON.stringify(c.params(dir))} killed ${delayMs} ms after "${moment}": ${JSON.stringify(r)}`;
  expect(r.failed, what).toEqual([]);
  expect(r.refused, what).toEqual([]);
  // Processes: hogs and held commands, and the managed service, all gone (a SIGTERMed service may take a moment).
  expect(await waitFor(() => withToken(token).length === 0, 5000), `${what}\nleft running: ${withToken(token).map((p) => `${p} ${cmdline(p)}`).join(', ')}`).toBe(true);
  for (const ctl of ['cpu', 'cpuacct', 'memory']) {
    expect(faultCgroupsUnder(`/sys/fs/cgroup/${ctl}`, 6).filter((p) => p.includes(`faultline-${child.pid}-`)), what).toEqual([]);
  }
  c.check?.(dir);
  // A second recover has nothing left to do.
  const again = await recover(journal, { keyPath });
  expect(again.undone, what).toEqual([]);
  if (c.kind === 'disk-fill') {
    spawnSync('umount', [join(dir, 'fs')]);
    mounts.splice(mounts.indexOf(join(dir, 'fs')), 1);
    rmdirSync(join(dir, 'fs'));
  }
}

describe('resource and state faults: kill -9 at a random moment, then recover, leaves nothing', () => {
  const random = seededRandom(Number(process.env.FAULTLINE_TEST_SEED ?? 15));
  for (const c of cases) {
    const name = `${c.kind} ${JSON.stringify(c.params('<dir>'))}`;
    // While it starts (racing the journal and the act) and while it holds.
    const d1 = Math.floor(random() * 40);
    const d2 = Math.floor(random() * 200);
    it.skipIf(c.needs === false)(`${name}: killed ${d1} ms into its start, and ${d2} ms into its hold`, async () => {
      await Promise.all([trial(c, 'starting', d1), trial(c, 'started', d2)]);
    }, 60_000);
  }
});
