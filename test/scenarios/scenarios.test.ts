/**
 * Every file in scenarios/ validates, and the short ones run end to end
 * through the CLI from a fresh state, each starting the demo system itself —
 * shortened with flag overrides (no baseline, a few seconds of load), their
 * faults firing as written. Each run must leave nothing behind.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, ROOT } from '../helpers/run.ts';
import { isGone, waitFor } from '../fixtures/proc.ts';
import { portFree } from '../../src/demo/ports.ts';
import type { Result } from '../../src/result.ts';
import { watchChildren } from '../demo/procs.ts';
import { NETWORK_SCENARIOS } from '../fixtures/hosts.ts';

const DIR = join(ROOT, 'scenarios');
// The catalog's scenarios (real PostgreSQL and Redis) have their own test: test/demo/catalog.test.ts.
// The catalog's and the network scenarios have end-to-end tests of their own.
const files = readdirSync(DIR).filter((f) => /\.(ts|yaml)$/.test(f) && !f.startsWith('catalog-') && !NETWORK_SCENARIOS.includes(f));

/** Runs `faultline run scenarios/<file> ...args --json`, watching what it starts; returns the exit code and the result. */
async function runScenario(file: string, args: string[], ports: number[]): Promise<{ code: number | null; out: string; result: Result; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-scenario-'));
  let watch: ReturnType<typeof watchChildren> | undefined;
  const r = await cli(['run', join(DIR, file), '--json', join(dir, 'r.json'), '-q', ...args], { cwd: dir, timeoutMs: 45_000, onSpawn: (pid) => (watch = watchChildren(pid)) });
  watch!.stop();
  try {
    const out = `exit ${r.code}\n${r.stdout}${r.stderr}`;
    expect(watch!.seen.size, `${file}: the services it started\n${out}`).toBeGreaterThanOrEqual(2);
    const result = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as Result;
    await waitFor(() => [...watch!.seen].every(isGone), 2000);
    expect([...watch!.seen].filter((p) => !isGone(p)), `${file}: processes left running`).toEqual([]);
    for (const p of ports) expect(await portFree(p), `${file}: port ${p} still taken`).toBe(true);
    return { code: r.code, out, result, dir };
  } finally {
    watch!.kill();
  }
}

const short = ['--no-baseline', '--rate', '1x', '--duration', '4s'];

describe('scenarios/', () => {
  it('has the six scenarios, and every one validates', async () => {
    expect(files.sort()).toEqual(['checkout-breakpoint.ts', 'ci-gate.yaml', 'expired-certificate.ts', 'kill-half-the-replicas.ts', 'paused-dependency.yaml', 'payment-500s.yaml', 'payment-latency.ts']);
    const runs = await Promise.all(files.map((f) => cli(['validate', join('scenarios', f)], { timeoutMs: 30_000 })));
    runs.forEach((r, i) => {
      expect(r.code, `${files[i]}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^scenarios/${files[i].replace('.', '\\.')}: valid — `));
    });
  });

  it('end to end: 503s at 30% reach checkout only; half the replicas killed is absorbed by the resilient shop; a paused payment stalls the naive shop', async () => {
    // One at a time: three demo systems at once on two cores would measure the machine, not the shop.
    const s503 = await runScenario('payment-500s.yaml', short, [4130, 4131, 4132]);
    const kill = await runScenario('kill-half-the-replicas.ts', short, [4140, 4141, 4142, 4143, 4144]);
    const pause = await runScenario('paused-dependency.yaml', [...short.slice(0, 3), '--duration', '5s'], [4150, 4151, 4152]);

    // payment-500s: the HTTP proxy answered 503 to about 30% of payments; the resilient shop turned each into "202 payment queued".
    const f503 = s503.result.faults!.find((f) => f.fault === 'payment 503s')!;
    expect(f503, s503.out).toBeDefined();
    const checkout = s503.result.stages.at(-1)!.byName.checkout;
    expect(checkout.errorRate, s503.out).toBeGreaterThan(0.15);
    expect(checkout.errorRate, s503.out).toBeLessThan(0.5);
    expect(s503.result.stages.at(-1)!.errors.unexpected_status).toBeGreaterThan(0);
    expect(s503.result.stages.at(-1)!.byName.products.errorCount).toBe(0);
    expect(f503.blastRadius.affected).toContain('checkout');
    expect(f503.blastRadius.byName.products.status).not.toBe('breached');

    // kill-half: two of four replicas killed (seeded), both restarted; refused connections retried on a live replica.
    const fk = kill.result.faults!.find((f) => f.fault === 'half of payment killed')!;
    expect(fk, kill.out).toBeDefined();
    expect(fk.detail?.replicas).toHaveLength(2);
    expect(fk.restart?.restartToReadyMs?.filter((v) => typeof v === 'number')).toHaveLength(2);
    expect(kill.result.stages.at(-1)!.byName.checkout.errorRate).toBeLessThan(0.05);

    // paused-dependency: 3 s of SIGSTOP; the naive shop's workers all wait on payment, so products stall too.
    const fp = pause.result.faults!.find((f) => f.fault === 'payment paused')!;
    expect(fp, pause.out).toBeDefined();
    expect(fp.detail?.pausedMs as number).toBeGreaterThanOrEqual(2900);
    expect(fp.blastRadius.affected).toEqual(expect.arrayContaining(['checkout', 'products']));
    expect(pause.result.stages.at(-1)!.byName.products.latency.max).toBeGreaterThan(1000);
  }, 90_000);

  it('ci-gate.yaml: a short gate with --junit; the exit code, the result and the JUnit file agree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-gate-'));
    const junit = join(dir, 'junit.xml');
    const { code, result, out } = await runScenario('ci-gate.yaml', ['--junit', junit, '--step-duration', '2s', '--from', '0.5x', '--to', '1.5x', '--steps', '3'], [4160, 4161, 4162]);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite[^>]*tests="\d+"/);
    expect(xml).toContain('p99 &lt; 250ms');
    expect(result.hypothesis && (result.hypothesis as { required: number }).required).toBe(600);
    expect(code).toBe(result.outcome.exitCode);
    if (result.generatorLimit) {
      // A busy 2-core box can stall the generator; the gate must then say so, not pass.
      expect(code, out).toBe(1);
      expect(result.outcome.reason).toMatch(/generator/);
    } else {
      // The resilient shop holds 1.5× its expected peak with payment healthy.
      expect(code, out).toBe(0);
      expect(xml).not.toContain('<failure');
    }
  }, 60_000);
});
