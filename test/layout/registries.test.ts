/**
 * Every family of variants is one table, and everything else is derived from
 * it: a fault kind, a profile and a reporter that exist only in the tests,
 * registered in one line each (test/fixtures/cli-with-test-variants.ts), are
 * validated, offered by the CLI and written to the report; the README's tables
 * name exactly what the tables hold.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { faultKinds } from '../../src/faults/index.ts';
import { profiles } from '../../src/profiles/index.ts';
import { reporters } from '../../src/report/index.ts';
import { loadFlags, scenarioFlags } from '../../src/commands/flags.ts';
import { cli, ROOT, type CliResult } from '../helpers/run.ts';
import { countingServer, type TestServer } from '../helpers/servers.ts';
import type { Result } from '../../src/result.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/cli-with-test-variants.ts', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The CLI with the test-only variants registered. */
function cliWithTestVariants(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FIXTURE, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Backticked names in the first column of the README table that follows `heading`. */
function firstColumn(heading: string): Set<string> {
  const at = README.indexOf(heading);
  expect(at, heading).toBeGreaterThan(-1);
  const rows = README.slice(at).split('\n').slice(1);
  const start = rows.findIndex((l) => l.startsWith('|'));
  const names = new Set<string>();
  for (const l of rows.slice(start)) {
    if (!l.startsWith('|')) break;
    // Names at the top level of the cell: `kill` (optional `restart` delay) names kill only.
    const cell = (l.split(/(?<!\\)\|/)[1] ?? '').replace(/\([^)]*\)/g, '');
    for (const m of cell.matchAll(/`([^`]+)`/g)) names.add(m[1]);
  }
  return names;
}

describe('registries', () => {
  let dir: string | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = dir = undefined;
  });

  it("README's fault kinds table names every registered kind, and only those", () => {
    expect([...firstColumn('**Fault kinds**')].sort()).toEqual(Object.keys(faultKinds).sort());
  });

  it("README's load row names every profile, and its CLI table every flag and output", () => {
    const load = README.split('\n').find((l) => l.startsWith('| `load` |'))!;
    expect([...load.matchAll(/`(\w+) \{/g)].map((m) => m[1])).toEqual(Object.keys(profiles));
    const flags = firstColumn('## The CLI');
    const text = [...flags].join(' ');
    const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    for (const k of Object.keys(loadFlags)) expect(text, k).toContain(`--${kebab(k)}`);
    for (const [k, v] of Object.entries(scenarioFlags)) {
      const specs = 'description' in v! ? { [k]: v } : v!;
      for (const [key, spec] of Object.entries(specs as Record<string, { flag?: string }>)) expect(text, key).toContain(`--${spec.flag ?? kebab(key)}`);
    }
    for (const name of Object.keys(reporters)) expect(text, name).toContain(`--${name}`);
    expect(text).toContain(`--profile ${Object.keys(profiles).join('\\|')}`);
  });

  it('a fault kind, a profile and a reporter registered in one line each are validated, offered by the CLI and reported', async () => {
    dir = mkdtempSync(join(tmpdir(), `faultline-h11-registries-${process.pid}-`));
    server = await countingServer();
    const marks = join(dir, 'marks.txt');
    const scenario = (extra: Record<string, unknown> = {}, fault: Record<string, unknown> = {}) =>
      JSON.stringify({
        target: server!.url,
        requests: [{ path: '/' }],
        load: { profile: 'twice', rate: 40, stageDuration: '1s', ...extra },
        faults: [{ name: 'mark it', kind: 'marker', file: marks, mark: 'm1', at: '200ms', duration: '500ms', ...fault }],
        minSamples: 5,
      });
    const good = join(dir, 'good.json');
    writeFileSync(good, scenario());
    const badLoad = join(dir, 'bad-load.json');
    writeFileSync(badLoad, scenario({ bogus: 1 }));
    const badFault = join(dir, 'bad-fault.json');
    writeFileSync(badFault, scenario({}, { mark: undefined, colour: 'red' }));

    // Validation: the kind's and the profile's own schemas, every problem with its path.
    const v = await cliWithTestVariants(['validate', good]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/twice profile, 2 stages, .* 1 fault/);
    const bl = await cliWithTestVariants(['validate', badLoad]);
    expect(bl.code).toBe(2);
    expect(bl.stderr).toContain('load.bogus: unknown key "bogus"');
    const bf = await cliWithTestVariants(['validate', badFault]);
    expect(bf.code).toBe(2);
    expect(bf.stderr).toContain('faults[0].colour: unknown key "colour"');
    expect(bf.stderr).toMatch(/faults\[0\]\.mark: /);
    // Without the registration line they do not exist.
    const plain = await cli(['validate', good]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(`load.profile: expected profile to be one of ${Object.keys(profiles).join(', ')}`);

    // The CLI: a --profile choice, the flags it takes, and an output flag.
    const help = await cliWithTestVariants(['run', '--help']);
    expect(help.stdout).toMatch(/--profile <name>[\s\S]*"twice"/);
    expect(help.stdout).toMatch(/--rate <rate>\s+constant\/twice:/);
    expect(help.stdout).toMatch(/--count-file <file>\s+write the requests of each stage/);
    const adhoc = await cliWithTestVariants(['validate', '--url', `${server.url}/`, '--profile', 'twice', '--rate', '10']);
    expect(adhoc.code).toBe(2);
    expect(adhoc.stderr).toMatch(/load\.stageDuration: /);

    // The report: the run writes the reporter's file, and `report` writes it again from the result.
    const out = join(dir, 'counts.txt');
    const json = join(dir, 'result.json');
    const r = await cliWithTestVariants(['run', good, '--no-baseline', '-q', '--count-file', out, '--json', json, '--workers', '1']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8')) as Result;
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toEqual(result.stages.map((s) => `${s.label}: ${s.requests}`));
    expect(lines).toHaveLength(2);
    // Every request the server saw is counted once, in one of the two stages.
    expect(result.stages.reduce((n, s) => n + s.requests, 0)).toBe(server.count());
    expect(readFileSync(marks, 'utf8')).toBe('start m1\nstop m1\n');
    expect(result.timeline.events.filter((e) => e.type === 'fault-start').map((e) => (e as { kind: string }).kind)).toEqual(['marker']);
    const again = join(dir, 'again.txt');
    const rep = await cliWithTestVariants(['report', json, '--count-file', again, '-q']);
    expect(rep.code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(out, 'utf8'));
  }, 120_000);
});
