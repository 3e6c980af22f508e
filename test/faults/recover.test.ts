import { describe, it, expect, afterEach } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileJournal, readOpenEntries } from '../../src/faults/journal.ts';
import { recover } from '../../src/faults/recover.ts';
import { processStartTime } from '../../src/services/proc.ts';
import { procState, waitFor, forceKill } from '../fixtures/proc.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid) forceKill(c.pid);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'faultline-recover-'));
  dirs.push(d);
  return d;
}
function sleeper(): number {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}
/** The pid of a process that has exited: a run that was kill -9ed. */
const deadPid = () => spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();

describe('journal and recover', () => {
  it('records before, clears after; a torn last line is ignored', async () => {
    const path = join(tmp(), '.faultline', 'journal.jsonl');
    const j = new FileJournal(path);
    const a = await j.record({ fault: 'a', kind: 'pause', undo: { type: 'signal', pid: 123, signal: 'SIGCONT' } });
    const b = await j.record({ fault: 'b', kind: 'exec', undo: { type: 'exec', command: 'true', timeoutMs: 1000 } });
    await j.clear(a);
    appendFileSync(path, '{"op":"record","id":"torn');
    const open = await readOpenEntries(path);
    expect(open.map((e) => [e.id, e.fault, e.owner])).toEqual([[b, 'b', process.pid]]);
  });

  it('undoes a dead run\'s leftover pause (SIGCONT) and exec (undo command), then empties the journal', async () => {
    const d = tmp();
    const path = join(d, 'journal.jsonl');
    const pid = sleeper();
    process.kill(pid, 'SIGSTOP');
    expect(await waitFor(() => procState(pid) === 'T', 1000)).toBe(true);
    const owner = Number(deadPid());
    const j = new FileJournal(path);
    await j.record({ fault: 'db pause', kind: 'pause', owner, undo: { type: 'signal', pid, signal: 'SIGCONT', pidStart: processStartTime(pid) } });
    await j.record({
      fault: 'net split',
      kind: 'exec',
      owner,
      undo: { type: 'exec', command: 'echo "$FAULTLINE_RUN_ID" > healed', cwd: d, env: { FAULTLINE_RUN_ID: 'r-3' }, timeoutMs: 5000 },
    });
    await j.record({ fault: 'api crash', kind: 'kill', owner, undo: { type: 'none', note: 'sent SIGKILL to api[0] pid 1' } });

    const r = await recover(path);
    expect(r.failed).toEqual([]);
    expect(r.undone).toEqual(['exec "net split": ran "echo \\"$FAULTLINE_RUN_ID\\" > healed"', `pause "db pause": SIGCONT → pid ${pid}`]);
    expect(r.notes).toEqual(['kill "api crash": sent SIGKILL to api[0] pid 1']);
    expect(['S', 'R']).toContain(procState(pid));
    expect(readFileSync(join(d, 'healed'), 'utf8')).toBe('r-3\n');
    expect(await readOpenEntries(path)).toEqual([]);
    // A second recover has nothing to do.
    expect(await recover(path)).toEqual({ undone: [], failed: [], skipped: [], notes: [], refused: [] });
  });

  it('leaves a reused pid alone, keeps failed undos for a retry, and skips a live run\'s entries', async () => {
    const d = tmp();
    const path = join(d, 'journal.jsonl');
    const victim = sleeper();
    const live = sleeper();
    const owner = Number(deadPid());
    const j = new FileJournal(path);
    await j.record({ fault: 'old', kind: 'service', owner, undo: { type: 'signal', pid: victim, signal: 'SIGTERM', pidStart: '1' } });
    await j.record({ fault: 'bad undo', kind: 'exec', owner, undo: { type: 'exec', command: 'exit 4', cwd: d, timeoutMs: 5000 } });
    await j.record({ fault: 'theirs', kind: 'pause', owner: live, undo: { type: 'signal', pid: victim, signal: 'SIGCONT' } });
    const r = await recover(path);
    expect(r.undone).toEqual([]);
    expect(r.notes).toEqual([`service "old": pid ${victim} now belongs to another process; left alone`]);
    expect(r.failed.map((f) => [f.entry.fault, f.error])).toEqual([['bad undo', 'undo "exit 4" exited with code 4']]);
    expect(r.skipped.map((e) => e.fault)).toEqual(['theirs']);
    expect(['S', 'R']).toContain(procState(victim));
    expect((await readOpenEntries(path)).map((e) => e.fault)).toEqual(['bad undo', 'theirs']);
    expect(existsSync(path)).toBe(true);
  });
});

describe('recover after kill -9 of a run that owned services', () => {
  it('ends the orphaned managed service (its whole process group)', async () => {
    const { freePorts, isGone } = await import('../fixtures/proc.ts');
    const { createInterface } = await import('node:readline');
    const d = tmp();
    const path = join(d, 'journal.jsonl');
    const [port] = await freePorts(1);
    const parent = spawn(process.execPath, [join(import.meta.dirname, '../fixtures/services-parent.ts'), path, String(port), join(d, 'logs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(parent);
    const line = await new Promise<string>((res, rej) => {
      createInterface({ input: parent.stdout! }).once('line', res);
      parent.once('exit', (c) => rej(new Error(`parent exited ${c}`)));
      setTimeout(() => rej(new Error('parent did not report')), 10_000);
    });
    const [pid] = (JSON.parse(line) as { pids: number[] }).pids;
    try {
      parent.kill('SIGKILL');
      await new Promise((r) => parent.once('exit', r));
      // Orphaned, still serving: nothing but the journal knows about it now.
      expect(procState(pid)).toMatch(/[SR]/);
      process.kill(pid, 'SIGSTOP'); // and paused, the hardest case: SIGTERM alone would not end it
      const r = await recover(path);
      expect(r.undone).toEqual([`service "api[0]": SIGTERM → process group ${pid}`]);
      expect(await waitFor(() => isGone(pid), 3000)).toBe(true);
      expect(await readOpenEntries(path)).toEqual([]);
    } finally {
      forceKill(-pid);
    }
  });
});

describe('recover: http entries', () => {
  it('sends the recorded request to a loopback server, and refuses any other host', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.statusCode = 204;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      const path = join(tmp(), 'journal.jsonl');
      const owner = Number(deadPid());
      const j = new FileJournal(path);
      await j.record({ fault: 'slow db', kind: 'toxiproxy', owner, undo: { type: 'http', method: 'DELETE', url: `http://127.0.0.1:${port}/proxies/db/toxics/latency` } });
      await j.record({ fault: 'remote', kind: 'toxiproxy', owner, undo: { type: 'http', method: 'DELETE', url: 'http://192.0.2.1:8474/reset' } });
      const r = await recover(path);
      expect(seen).toEqual(['DELETE /proxies/db/toxics/latency']);
      expect(r.undone).toEqual([`toxiproxy "slow db": DELETE http://127.0.0.1:${port}/proxies/db/toxics/latency → 204`]);
      expect(r.failed).toEqual([]);
      expect(r.refused).toEqual(['toxiproxy "remote": refusing DELETE http://192.0.2.1:8474/reset: not loopback']);
    } finally {
      server.close();
    }
  });
});
