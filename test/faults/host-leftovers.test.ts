/**
 * Nothing is left behind: a process making hosts and injecting one network
 * fault kind over and over is killed with SIGKILL at random moments (while
 * it makes its hosts, and while the kind starts and stops), 20 times per
 * kind; then `recover` runs on its journal (the recover watchdog may already
 * be at it), and no namespace, nft table, link, qdisc or /etc/netns entry of
 * it remains, and no journal entry stays open.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { recover } from '../../src/faults/recover.ts';
import { readOpenEntries } from '../../src/faults/journal.ts';
import { announceSkip, leftovers } from '../fixtures/hosts.ts';
import { isGone, waitFor } from '../fixtures/proc.ts';

const skip = announceSkip('test/faults/host-leftovers.test.ts');
const DRIVER = fileURLToPath(new URL('../fixtures/host-driver.ts', import.meta.url));
const KINDS = ['packet-loss', 'link-down', 'partition', 'link-bandwidth', 'dns'];
/** Drivers still running if the test fails or times out half-way: killed at the end (their watchdogs then recover). */
const running = new Set<number>();
afterAll(() => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
const KILLS = Number(process.env.FL_KILLS ?? 20);

/** One round: start the driver, SIGKILL it at a random moment, recover, and say what is left. */
async function killOnce(kind: string, round: number): Promise<{ left: string[]; open: number; phase: string; failed: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'fl14-kill-'));
  const journal = join(dir, 'journal.jsonl');
  const child = spawn(process.execPath, [DRIVER, journal, kind], { stdio: ['ignore', 'pipe', 'pipe'] });
  let ready = false;
  child.stdout!.on('data', (d: Buffer) => (ready ||= d.toString().includes('ready')));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const pid = child.pid!;
  running.add(pid);
  // A quarter of the kills land while the hosts are being made, the rest while the kind starts and stops.
  const duringSetup = round % 4 === 0;
  if (duringSetup) await sleep(150 + Math.random() * 600);
  else {
    await waitFor(() => ready || child.exitCode !== null, 30_000);
    if (!ready) {
      process.kill(pid, 'SIGKILL');
      throw new Error(`driver for ${kind} was not ready within 30 s: ${err}`);
    }
    await sleep(Math.random() * 300);
  }
  const phase = ready ? 'faults' : 'setup';
  process.kill(pid, 'SIGKILL');
  running.delete(pid);
  await waitFor(() => isGone(pid), 5000);
  // An ip/nft/tc command the driver had started outlives it by a moment (as the watchdog, wait for it).
  await sleep(500);
  const r = await recover(journal);
  const id = `${pid.toString(36)}0`;
  // The watchdog may still be finishing its own pass: give it a moment, then the machine must be clean.
  await waitFor(() => leftovers(id, pid).length === 0, 3000).catch(() => {});
  return { left: leftovers(id, pid), open: (await readOpenEntries(journal)).length, phase, failed: r.failed.map((f) => f.error) };
}

describe.skipIf(skip)('host faults leave nothing behind after kill -9 and recover', () => {
  it(`${KILLS} kills per kind, ${KINDS.length} kinds, at random moments`, async () => {
    const phases: Record<string, number> = { setup: 0, faults: 0 };
    // The kinds run side by side (each its own process and network), one round at a time.
    for (let round = 0; round < KILLS; round++) {
      const results = await Promise.all(KINDS.map((k) => killOnce(k, round)));
      results.forEach((r, i) => {
        phases[r.phase]++;
        expect(r.left, `${KINDS[i]} round ${round} (${r.phase}): left behind`).toEqual([]);
        expect(r.failed, `${KINDS[i]} round ${round}: undo failures`).toEqual([]);
        expect(r.open, `${KINDS[i]} round ${round}: open journal entries`).toBe(0);
      });
    }
    expect(phases.faults).toBeGreaterThanOrEqual(KINDS.length * KILLS * 0.6);
  }, 240_000);
});
