/**
 * `recover` under a hostile journal: lines written or changed by anything
 * but faultline, and signed entries naming pids faultline must never touch.
 * Nothing is signalled and nothing is run; the CLI says what it refused.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync, appendFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileJournal, readJournal } from '../../src/faults/journal.ts';
import { journalKey, signLine } from '../../src/faults/journalKey.ts';
import { recover } from '../../src/faults/recover.ts';
import { processStartTime } from '../../src/services/proc.ts';
import { procState, waitFor, forceKill } from '../fixtures/proc.ts';
import { cli } from '../helpers/run.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid) forceKill(c.pid);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'faultline-h13-hostile-'));
  dirs.push(d);
  return d;
}

/** A process that writes a file on SIGWINCH (a signal harmless to everything else) and stays alive. */
async function witness(dir: string, name: string): Promise<number> {
  const c = spawn(process.execPath, ['-e', `process.on('SIGWINCH', () => require('fs').writeFileSync(${JSON.stringify(join(dir, name))}, 'hit')); setInterval(() => {}, 1000); console.log('up')`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(c);
  await new Promise((r) => c.stdout!.once('data', r));
  return c.pid!;
}

const line = (o: object) => JSON.stringify(o) + '\n';
const rec = (id: string, undo: object, extra: object = {}) => ({ op: 'record', id, fault: id, kind: 'pause', undo, at: Date.now(), owner: 999_999_999, ...extra });

describe('recover refuses a hostile journal', () => {
  it('unsigned lines: pid -1, 0, 1, a foreign pid, commands never recorded: nothing is signalled or run', async () => {
    journalKey({ create: true }); // this machine has a key, as after any run: the forged lines still fail it
    const d = tmp();
    const path = join(d, 'journal.jsonl');
    const w = await witness(d, 'foreign');
    const victim = await witness(d, 'victim');
    writeFileSync(
      path,
      [
        line(rec('everyone', { type: 'signal', pid: -1, signal: 'SIGWINCH' })),
        line(rec('init', { type: 'signal', pid: 1, signal: 'SIGWINCH' })),
        line(rec('own group', { type: 'signal', pid: 0, signal: 'SIGWINCH' })),
        line(rec('negative', { type: 'signal', pid: -w, signal: 'SIGKILL', pidStart: processStartTime(w) })),
        line(rec('foreign', { type: 'signal', pid: victim, signal: 'SIGKILL', pidStart: processStartTime(victim) })),
        line(rec('shell', { type: 'exec', command: `touch ${join(d, 'pwned-exec')}`, timeoutMs: 5000 }, { kind: 'exec' })),
        line(rec('argv', { type: 'argv', argv: ['touch', join(d, 'pwned-argv')], timeoutMs: 5000 }, { kind: 'exec' })),
        line(rec('forged mac', { type: 'argv', argv: ['touch', join(d, 'pwned-mac')], timeoutMs: 5000 }, { mac: 'ab'.repeat(32) })),
      ].join(''),
    );
    const before = readFileSync(path, 'utf8');
    const r = await recover(path);
    expect(r.undone).toEqual([]);
    expect(r.failed).toEqual([]);
    expect(r.refused).toHaveLength(8);
    expect(r.refused[0]).toMatch(/^line 1 \(pause "everyone"\): undo\.pid: expected a pid or process group above 1/);
    expect(r.refused[1]).toMatch(/^line 2 .*above 1/);
    expect(r.refused[2]).toMatch(/^line 3 .*above 1/);
    expect(r.refused[4]).toMatch(/^line 5 \(pause "foreign"\): mac: /); // no signature at all
    expect(r.refused[7]).toMatch(/^line 8 .*signature does not match/);
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(join(d, 'foreign'))).toBe(false);
    expect(existsSync(join(d, 'victim'))).toBe(false);
    expect(procState(w)).toMatch(/[SR]/);
    expect(procState(victim)).toMatch(/[SR]/);
    for (const f of ['pwned-exec', 'pwned-argv', 'pwned-mac']) expect(existsSync(join(d, f))).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe(before); // refused lines stay, as evidence
  });

  it('a recorded argv changed afterwards, and a clear nobody signed, are refused', async () => {
    const d = tmp();
    const path = join(d, 'journal.jsonl');
    const j = new FileJournal(path);
    const id = await j.record({ fault: 'rule', kind: 'partition', owner: 999_999_999, undo: { type: 'argv', argv: ['true'], timeoutMs: 5000 } });
    const signed = JSON.parse(readFileSync(path, 'utf8'));
    signed.undo.argv = ['touch', join(d, 'pwned')];
    writeFileSync(path, line(signed) + line({ op: 'clear', id: 'x' }));
    const r = await recover(path);
    expect(r.refused).toEqual([`line 1 (partition "rule"): signature does not match (written or changed by something other than faultline, or with another key than ${(await readJournal(path)).keyPath})`]);
    expect(existsSync(join(d, 'pwned'))).toBe(false);
    // An unsigned clear cannot hide a real entry either.
    const path2 = join(d, 'j2.jsonl');
    const j2 = new FileJournal(path2);
    const id2 = await j2.record({ fault: 'note', kind: 'kill', owner: 999_999_999, undo: { type: 'none', note: 'sent SIGKILL' } });
    appendFileSync(path2, line({ op: 'clear', id: id2, mac: 'cd'.repeat(32) }));
    expect((await readJournal(path2)).open.map((e) => e.id)).toEqual([id2]);
    expect(id).toBeTruthy();
  });

  it('signed by this machine but unsafe: no start time, a reused pid, pid 1 are left alone', async () => {
    const d = tmp();
    const path = join(d, 'journal.jsonl');
    const key = journalKey({ create: true })!;
    const signed = (o: Record<string, unknown>) => line({ ...o, mac: signLine(key, o) });
    const victim = await witness(d, 'victim');
    writeFileSync(
      path,
      signed(rec('no start', { type: 'signal', pid: victim, signal: 'SIGWINCH' })) +
        signed(rec('reused', { type: 'signal', pid: victim, signal: 'SIGWINCH', pidStart: '1' })) +
        signed(rec('init', { type: 'signal', pid: 1, signal: 'SIGWINCH', pidStart: processStartTime(1) ?? '1' })),
    );
    const r = await recover(path);
    expect(r.undone).toEqual([]);
    expect(r.notes).toEqual([`pause "reused": pid ${victim} now belongs to another process; left alone`]);
    expect(r.refused).toEqual([
      `line 3 (pause "init"): undo.pid: expected a pid or process group above 1 (0, 1 and -1 reach init or every process)`,
      `pause "no start": no start time recorded for pid ${victim}: cannot tell it is the process faultline recorded`,
    ]);
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(join(d, 'victim'))).toBe(false);
  });

  it('a signed entry for a process faultline recorded is undone (the witness gets its signal)', async () => {
    const d = tmp();
    const path = join(d, 'journal.jsonl');
    const victim = await witness(d, 'resumed');
    await new FileJournal(path).record({ fault: 'db', kind: 'pause', owner: 999_999_999, undo: { type: 'signal', pid: victim, signal: 'SIGWINCH', pidStart: processStartTime(victim) } });
    const r = await recover(path);
    expect(r.undone).toEqual([`pause "db": SIGWINCH → pid ${victim}`]);
    expect(await waitFor(() => existsSync(join(d, 'resumed')), 2000)).toBe(true);
  });
});

describe('recover (CLI): a summary first, acting only with --yes', () => {
  it('without --yes and without a terminal: prints the plan, does nothing, exit 2', async () => {
    const d = tmp();
    const path = join(d, 'journal.jsonl');
    const victim = await witness(d, 'hit');
    await new FileJournal(path).record({ fault: 'db', kind: 'pause', owner: 999_999_999, undo: { type: 'signal', pid: victim, signal: 'SIGWINCH', pidStart: processStartTime(victim) } });
    appendFileSync(path, line(rec('evil', { type: 'exec', command: `touch ${join(d, 'pwned')}`, timeoutMs: 1000 }, { kind: 'exec' })));
    const t0 = Date.now();
    const r = await cli(['recover', path], { timeoutMs: 20_000 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`will undo: pause "db": SIGWINCH → pid ${victim}`);
    expect(r.stdout).toMatch(/refused: line 2 \(exec "evil"\): mac: /);
    expect(r.stderr.trim()).toBe('faultline: nothing done: run again with --yes to undo 1 entry (no terminal to ask on)');
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(join(d, 'hit'))).toBe(false);

    const y = await cli(['recover', '--yes', path], { timeoutMs: 20_000 });
    expect(y.stdout).toContain(`undone: pause "db": SIGWINCH → pid ${victim}`);
    expect(y.code).toBe(2); // a refused line remains: not a clean bill
    expect(await waitFor(() => existsSync(join(d, 'hit')), 2000)).toBe(true);
    expect(existsSync(join(d, 'pwned'))).toBe(false);
  });

  it('a key file others can read is refused: one line, exit 3', async () => {
    const d = tmp();
    const key = join(d, 'journal.key');
    writeFileSync(key, 'ab'.repeat(32) + '\n');
    chmodSync(key, 0o644);
    writeFileSync(join(d, 'journal.jsonl'), line(rec('x', { type: 'none', note: 'n' })));
    const r = await cli(['recover', '--yes', join(d, 'journal.jsonl')], { env: { FAULTLINE_JOURNAL_KEY: key }, timeoutMs: 20_000 });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe(`faultline: refusing the journal key ${key}: mode 644 lets others read or change it (chmod 600 it)`);
  });
});
