/**
 * hold: a command holding a lock (here a lock file it creates, then keeps) is
 * started behind the journal gate, the fault starts when its ready line is
 * seen, and at the end its whole process group is gone — measured from ready
 * to exit. A command that never gets ready fails the start and is ended.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hold } from '../../src/faults/kinds/hold.ts';
import { MemoryJournal } from '../../src/faults/journal.ts';
import type { FaultSpecBase } from '../../src/faults/types.ts';
import { testCtx } from '../fixtures/faultCtx.ts';
import { isGone, waitFor } from '../fixtures/proc.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const spec = (params: Record<string, unknown>, duration = 1000): FaultSpecBase => ({ name: 'orders locked', kind: 'hold', duration, params: hold.params.parse(params) });

describe('hold', () => {
  it('starts when the ready line is printed (after a slow acquire), holds until stopped, and its group is gone after', async () => {
    const d = mkdtempSync(join(tmpdir(), `fl15-${process.pid}-hold-`));
    dirs.push(d);
    const lock = join(d, 'orders.lock');
    // Takes 300 ms to get the lock, then holds it; a child in its group holds it too.
    const command = `sleep 0.3; touch ${lock}; echo locked; trap 'rm -f ${lock}; exit 0' TERM; sleep 60 & wait`;
    const journal = new MemoryJournal();
    const f = hold.create(spec({ command, ready: { line: '^locked$' } }), testCtx({ journal }));
    const t0 = performance.timeOrigin + performance.now();
    const at = (await f.start()) as number;
    // The fault's start is the line, not the spawn: at least 300 ms later, with the lock really there.
    expect(at - t0).toBeGreaterThanOrEqual(280);
    expect(existsSync(lock)).toBe(true);
    const [entry] = [...journal.entries.values()];
    expect(entry.undo).toMatchObject({ type: 'signal', signal: 'SIGKILL', pidStart: expect.stringMatching(/^\d+$/) });
    const pgid = -(entry.undo as { pid: number }).pid;
    await sleep(700);
    const end = (await f.stop()) as number;
    expect(existsSync(lock)).toBe(false); // its TERM trap ran: a graceful release
    expect(await waitFor(() => isGone(pgid), 1000)).toBe(true);
    expect(journal.entries.size).toBe(0);
    const d2 = f.detail!();
    expect(d2.heldMs).toBe(Math.round(end - at));
    expect(d2.heldMs as number).toBeGreaterThanOrEqual(700);
    expect(f.measured!()!).toMatchObject({ noEffect: false });
    expect(f.measured!()!.summary).toMatch(/^hold 1\.0s → held \d\.\d\ds \(ready after \d+ ms\)$/);
  });

  it('a command that exits by itself ends the effect early and says so', async () => {
    const f = hold.create(spec({ command: 'echo ready; sleep 0.3', ready: { line: true } }, 5000), testCtx());
    await f.start();
    await f.effectEnded!();
    await f.stop();
    expect(f.detail!().exitedEarly).toBe('exited with code 0');
    expect(f.measured!()!.summary).toMatch(/the command exited with code 0 by itself$/);
  });

  it('a command that never prints its ready line fails the start within the timeout, and is ended', async () => {
    const journal = new MemoryJournal();
    const f = hold.create(spec({ command: 'sleep 30', ready: { line: 'locked', timeout: '400ms' } }), testCtx({ journal }));
    await expect(f.start()).rejects.toThrow(/hold "sleep 30": waited for an output line matching \/locked\/: not seen after 0.4s/);
    const pgid = -([...journal.entries.values()][0].undo as { pid: number }).pid;
    await f.stop();
    expect(await waitFor(() => isGone(pgid), 3000)).toBe(true);
    expect(journal.entries.size).toBe(0);
  });
});
