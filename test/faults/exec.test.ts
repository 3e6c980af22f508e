import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultKinds } from '../../src/faults/index.ts';
import { Injector } from '../../src/faults/injector.ts';
import { MemoryJournal } from '../../src/faults/journal.ts';
import type { FaultSpecBase } from '../../src/faults/types.ts';
import type { TimelineEvent } from '../../src/timeline.ts';
import { testCtx } from '../fixtures/faultCtx.ts';
import { isGone, waitFor } from '../fixtures/proc.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'faultline-exec-'));
  dirs.push(d);
  return d;
}
const spec = (params: Record<string, unknown>, more: Partial<FaultSpecBase> = {}): FaultSpecBase => ({
  name: 'db lock',
  kind: 'exec',
  target: 'db',
  at: 0,
  duration: 50,
  ...more,
  params: faultKinds.exec.params.parse(params),
});
const facts = { runId: 'r-17', target: 'http://127.0.0.1:8080', offeredRate: '400', FAULTLINE_SEED: '9' };

describe('exec', () => {
  it('runs inject and undo through the shell with the run\'s facts as FAULTLINE_* variables', async () => {
    const d = tmp();
    const journal = new MemoryJournal();
    const events: TimelineEvent[] = [];
    const inj = new Injector(
      [spec({ command: `env | grep ^FAULTLINE_ | sort > inject.env`, undo: `echo "$FAULTLINE_FAULT undone $EXTRA" > undo.txt`, cwd: d, env: { EXTRA: 'x1' } })],
      testCtx({ facts, journal }),
      faultKinds,
      (e) => events.push(e),
      { clock: () => 0 }, // synthetic ticks: the inject's run time does not shift the 50 ms duration
    );
    await inj.tick({ now: 0, elapsedMs: 0, offeredRate: 400, stage: 0 });
    const env = readFileSync(join(d, 'inject.env'), 'utf8').trim().split('\n');
    expect(env).toEqual([
      'FAULTLINE_FAULT=db lock',
      'FAULTLINE_OFFERED_RATE=400',
      'FAULTLINE_RUN_ID=r-17',
      'FAULTLINE_SEED=9',
      'FAULTLINE_TARGET=db',
    ]);
    // The undo is journalled before the inject ran, with what recover needs.
    expect([...journal.entries.values()][0].undo).toMatchObject({ type: 'exec', cwd: d, timeoutMs: 10_000, env: { FAULTLINE_RUN_ID: 'r-17', EXTRA: 'x1' } });
    expect(existsSync(join(d, 'undo.txt'))).toBe(false);
    await inj.tick({ now: 50, elapsedMs: 50, offeredRate: 400, stage: 0 });
    expect(readFileSync(join(d, 'undo.txt'), 'utf8')).toBe('db lock undone x1\n');
    expect(journal.entries.size).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['fault-start', 'fault-stop']);
    expect((events[1] as unknown as { detail: { injectMs: number; undoMs: number } }).detail.undoMs).toBeGreaterThanOrEqual(0);
  });

  it('a failing inject is a fault-error and the undo still runs', async () => {
    const d = tmp();
    const events: TimelineEvent[] = [];
    const inj = new Injector([spec({ command: 'echo "no such container" >&2; exit 3', undo: 'touch undone', cwd: d })], testCtx({ facts }), faultKinds, (e) => events.push(e));
    await inj.tick({ now: 0, elapsedMs: 0, offeredRate: 1, stage: 0 });
    expect(events).toEqual([expect.objectContaining({ type: 'fault-error', message: 'start failed: exec "echo \\"no such container\\" >&2; exit 3" exited with code 3: no such container' })]);
    expect(existsSync(join(d, 'undone'))).toBe(true);
    expect((await inj.undoAll()).failed).toEqual([]);
  });

  it('an inject that outlives its timeout is killed (with what it started) and reported', async () => {
    const d = tmp();
    const events: TimelineEvent[] = [];
    const t0 = Date.now();
    const command = 'sleep 30 & echo $! > bg.pid; echo started; wait';
    const inj = new Injector([spec({ command, undo: 'touch undone', timeout: '300ms', cwd: d })], testCtx(), faultKinds, (e) => events.push(e));
    await inj.tick({ now: 0, elapsedMs: 0, offeredRate: 1, stage: 0 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(events[0]).toMatchObject({ type: 'fault-error', message: `start failed: exec ${JSON.stringify(command)} timed out after 0.3s: started` });
    expect(existsSync(join(d, 'undone'))).toBe(true);
    const bg = Number(readFileSync(join(d, 'bg.pid'), 'utf8'));
    expect(await waitFor(() => isGone(bg), 2000)).toBe(true);
  });

  it('a failing undo is reported by undoAll', async () => {
    const inj = new Injector([spec({ command: 'true', undo: 'exit 5' }, { duration: undefined })], testCtx(), faultKinds, () => {});
    await inj.tick({ now: 0, elapsedMs: 0, offeredRate: 1, stage: 0 });
    expect(await inj.undoAll()).toEqual({ failed: [{ fault: 'db lock', error: 'undo "exit 5" exited with code 5' }] });
  });

  it('with ready, the command holds the fault: start when ready, end when the command has exited, then the undo', async () => {
    const d = tmp();
    const journal = new MemoryJournal();
    const events: TimelineEvent[] = [];
    const now = () => performance.timeOrigin + performance.now();
    const inj = new Injector(
      [spec({ command: `sleep 0.5; echo locked; sleep 30`, undo: `touch undone`, cwd: d, ready: { line: 'locked' } }, { duration: 400 })],
      testCtx({ journal }),
      faultKinds,
      (e) => events.push(e),
    );
    const t0 = now();
    await inj.tick({ now: t0, elapsedMs: 0, offeredRate: 1, stage: 0 });
    const start = events.find((e) => e.type === 'fault-start')!;
    // Recorded when the line came (0.5 s after the trigger), not when the command was started.
    expect(start.t - t0).toBeGreaterThanOrEqual(450);
    expect(start).toMatchObject({ requestedAt: t0 });
    // The held command's group is journalled (recover kills it), beside the undo.
    expect([...journal.entries.values()].map((e) => e.undo.type).sort()).toEqual(['exec', 'signal']);
    await new Promise((r) => setTimeout(r, 450));
    await inj.tick({ now: now(), elapsedMs: 1000, offeredRate: 1, stage: 0 });
    const stop = events.find((e) => e.type === 'fault-stop')!;
    expect(existsSync(join(d, 'undone'))).toBe(true);
    expect(stop.t - start.t).toBeGreaterThanOrEqual(400);
    expect(journal.entries.size).toBe(0);
  });

  it('a held command that exits by itself ends the fault before its duration', async () => {
    const events: TimelineEvent[] = [];
    const now = () => performance.timeOrigin + performance.now();
    const inj = new Injector([spec({ command: 'echo held; sleep 0.4', ready: { line: true } }, { duration: 60_000 })], testCtx(), faultKinds, (e) => events.push(e));
    const t0 = now();
    await inj.tick({ now: t0, elapsedMs: 0, offeredRate: 1, stage: 0 });
    await new Promise((r) => setTimeout(r, 700));
    await inj.tick({ now: now(), elapsedMs: 700, offeredRate: 1, stage: 0 });
    expect(events.map((e) => e.type)).toEqual(['fault-start', 'fault-stop']);
    const [a, b] = events;
    expect(b.t - a.t).toBeGreaterThanOrEqual(300);
    expect(b.t - a.t).toBeLessThan(700);
    expect((b as { detail?: Record<string, unknown> }).detail).toMatchObject({ commandEnded: 'exited with code 0' });
  });
});
