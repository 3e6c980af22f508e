/**
 * scenarios/expired-certificate.ts end to end through the CLI, at small scale
 * (four 2.5 s steps at the peak, no baseline; the fault fires as written, at
 * stage 2 for 4 s): the naive shop's checkouts fail with 502 while payment's
 * certificate is expired, the resilient shop's fall back to "202 payment
 * queued"; products hold in both; the proxy counted the refused handshakes;
 * nothing is left behind (processes, ports, the CA file, journal entries).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, ROOT } from '../helpers/run.ts';
import { isGone, waitFor } from '../fixtures/proc.ts';
import { portFree } from '../../src/demo/ports.ts';
import { readOpenEntries } from '../../src/faults/journal.ts';
import type { Result } from '../../src/result.ts';
import type { Window } from '../../src/timeline.ts';
import { watchChildren } from '../demo/procs.ts';

const FILE = join(ROOT, 'scenarios', 'expired-certificate.ts');
const PORTS = [4270, 4271, 4272];
const SHORT = ['--no-baseline', '--from', '1x', '--to', '1x', '--steps', '4', '--step-duration', '2500ms', '--window', '500ms'];

async function run(mode: 'naive' | 'resilient'): Promise<{ result: Result; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), `fl-h14tls-${mode}-`));
  let watch: ReturnType<typeof watchChildren> | undefined;
  const r = await cli(['run', FILE, '--json', join(dir, 'r.json'), '-q', ...SHORT], { cwd: dir, env: { SHOP_MODE: mode }, timeoutMs: 60_000, onSpawn: (pid) => (watch = watchChildren(pid)) });
  watch!.stop();
  try {
    const out = `exit ${r.code}\n${r.stdout}${r.stderr}`;
    expect(watch!.seen.size, out).toBeGreaterThanOrEqual(2);
    const result = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as Result;
    await waitFor(() => [...watch!.seen].every(isGone), 2000);
    expect([...watch!.seen].filter((p) => !isGone(p)), 'processes left running').toEqual([]);
    for (const p of PORTS) expect(await portFree(p), `port ${p} still taken`).toBe(true);
    // The run's CA certificate was written for the shop and removed at the end; its journal entry cleared.
    const tlsDir = join(dir, '.faultline', 'tls');
    expect(existsSync(tlsDir) ? readdirSync(tlsDir) : [], 'CA files left').toEqual([]);
    expect(await readOpenEntries(join(dir, '.faultline', 'journal.jsonl'))).toEqual([]);
    expect(readFileSync(join(dir, '.faultline', 'journal.jsonl'), 'utf8')).toMatch(/"kind":"tls".*"argv":\["rm","-f"/);
    return { result, out };
  } finally {
    watch!.kill();
  }
}

/** Checkout counts by error kind in the windows that ended while the fault was active. */
function duringFault(r: Result): { requests: number; byKind: Record<string, number>; products: { requests: number; errors: number } } {
  const start = r.timeline.events.find((e) => e.type === 'fault-start')!.t;
  const stop = r.timeline.events.find((e) => e.type === 'fault-stop')!.t;
  const ws = r.timeline.windows.filter((w: Window) => w.end > start + 250 && w.end <= stop);
  const byKind: Record<string, number> = {};
  let requests = 0;
  const products = { requests: 0, errors: 0 };
  for (const w of ws) {
    const c = w.byName.checkout;
    requests += c?.requests ?? 0;
    for (const [k, n] of Object.entries(c?.byKind ?? {})) byKind[k] = (byKind[k] ?? 0) + (n ?? 0);
    products.requests += w.byName.products?.requests ?? 0;
    products.errors += w.byName.products?.errors ?? 0;
  }
  return { requests, byKind, products };
}

describe('scenarios/expired-certificate.ts', () => {
  it('naive: checkouts fail (502) while the certificate is expired; resilient: they fall back to 202; products hold; the proxy counted the refused handshakes', async () => {
    const naive = await run('naive');
    const resilient = await run('resilient');
    for (const [name, { result, out }] of Object.entries({ naive, resilient })) {
      const f = result.faults!.find((x) => x.fault === 'payment certificate expired');
      expect(f, `${name}: the fault ran\n${out}`).toBeDefined();
      // The shop's handshakes, refused: the proxy's own count, not an assumption.
      expect(f!.effect!.noEffect, `${name}: ${f!.effect!.summary}`).toBe(false);
      expect(f!.effect!.values.failed).toBeGreaterThan(0);
      expect(f!.effect!.values.completed).toBe(0);
      const d = duringFault(result);
      expect(d.products.requests, `${name}: products during the fault`).toBeGreaterThan(100);
      expect(d.products.errors, `${name}: products stay up`).toBe(0);
      expect(d.requests).toBeGreaterThan(30);
      expect(f!.blastRadius.affected, name).toContain('checkout');
    }
    // Naive: every checkout during the fault is a 502 "payment failed" (the shop refused the certificate).
    const n = duringFault(naive.result);
    expect(n.byKind.http_5xx, naive.out).toBe(n.requests);
    // Resilient: "202 payment queued" instead — an unexpected status for the hypothesis, never a 5xx.
    const s = duringFault(resilient.result);
    expect(s.byKind.http_5xx ?? 0, resilient.out).toBe(0);
    expect(s.byKind.unexpected_status, resilient.out).toBe(s.requests);
    // The breaker stops calling payment: fewer refused handshakes than the naive shop's one per checkout.
    const nf = naive.result.faults!.find((x) => x.fault === 'payment certificate expired')!;
    const sf = resilient.result.faults!.find((x) => x.fault === 'payment certificate expired')!;
    expect(sf.effect!.values.failed).toBeLessThan(nf.effect!.values.failed);
  }, 150_000);
});
