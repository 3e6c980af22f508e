/**
 * packet-loss on a real host link: 20% set must measure 20 ± 3% over more
 * than 1,000 packets, from the rule's counters — and the datagrams that came
 * back agree with them; the rule is gone after stop, the host after close.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { faultKinds } from '../../src/faults/index.ts';
import type { FaultSpecBase } from '../../src/faults/types.ts';
import { announceSkip, startHosted, leftovers, openEntries, UDP_ECHO, echo, echoReady, track, type Hosted } from '../fixtures/hosts.ts';

const skip = announceSkip('test/faults/packet-loss.test.ts');
let hosted: Hosted | undefined;
afterEach(async () => {
  await hosted?.close();
  if (hosted) expect(leftovers(hosted.network.id)).toEqual([]);
  hosted = undefined;
});

const spec = (params: Record<string, unknown>): FaultSpecBase => ({ name: 'lossy link', kind: 'packet-loss', target: 'echo', params });

describe.skipIf(skip)('packet-loss', () => {
  it('20% inbound measures 20 ± 3% over 2,000 packets, matches what came back, and is removed after', async () => {
    hosted = await startHosted({ echo: { command: process.execPath, args: ['-e', UDP_ECHO], env: { PORT: 9 }, host: 'own' } });
    const [host] = hosted.network.of('echo');
    await echoReady(host.address);
    expect(await echo(host.address, 9, 200)).toBe(200); // a clean link first

    const fault = track(hosted, faultKinds['packet-loss'].create(spec({ loss: '20%', direction: 'inbound' }), hosted.ctx));
    await fault.start();
    expect(execFileSync('ip', ['netns', 'exec', host.ns, 'nft', 'list', 'tables'], { encoding: 'utf8' })).toMatch(/faultline-f/);
    const back = await echo(host.address, 9, 2000);
    await fault.stop();
    const d = { ...(fault.detail!() as { measuredLoss: number; method: string }), ...fault.measured!()!.values } as { packets: number; dropped: number; measuredLoss: number; method: string };
    expect(d.method).toBe('nftables numgen');
    expect(d.packets).toBeGreaterThanOrEqual(2000);
    expect(d.measuredLoss).toBeGreaterThan(0.17);
    expect(d.measuredLoss).toBeLessThan(0.23);
    expect(fault.measured!()!.noEffect).toBe(false);
    expect(fault.measured!()!.summary).toMatch(/^20\.0% inbound set: \d+\.\d% lost \([\d,]+ of [\d,]+ packets\)$/);
    // Every datagram the rule let through was echoed: the counters are the link's truth.
    expect(back).toBeGreaterThanOrEqual(d.packets - d.dropped - 5);
    expect(back).toBeLessThanOrEqual(2000 - d.dropped);
    // Undone: only the host's own NAT table is left in its namespace, and the link is clean again.
    expect(execFileSync('ip', ['netns', 'exec', host.ns, 'nft', 'list', 'tables'], { encoding: 'utf8' }).trim()).toBe('table ip faultline');
    expect(await openEntries(hosted).then((e) => e.filter((x) => x.fault === 'lossy link'))).toEqual([]);
    expect(await echo(host.address, 9, 200)).toBe(200);
  }, 30_000);

  it('both directions: each is measured apart, and what came back is about 0.8 × 0.8', async () => {
    hosted = await startHosted({ echo: { command: process.execPath, args: ['-e', UDP_ECHO], env: { PORT: 9 }, host: 'own' } });
    const [host] = hosted.network.of('echo');
    await echoReady(host.address);
    const fault = track(hosted, faultKinds['packet-loss'].create(spec({ loss: 0.2, direction: 'both' }), hosted.ctx));
    await fault.start();
    const back = await echo(host.address, 9, 2000);
    await fault.stop();
    const d = fault.detail!() as Record<string, { packets: number; dropped: number; loss: number }> & { measuredLoss: number };
    expect(d.inbound.packets).toBeGreaterThanOrEqual(2000);
    expect(d.inbound.loss).toBeGreaterThan(0.17);
    expect(d.inbound.loss).toBeLessThan(0.23);
    // Outbound saw only what survived inbound (about 1,600 replies).
    expect(d.outbound.packets).toBeGreaterThan(1000);
    expect(d.outbound.loss).toBeGreaterThan(0.16);
    expect(d.outbound.loss).toBeLessThan(0.24);
    // Replies the rule let out came back (a few other packets, and the odd one the socket buffer dropped, aside).
    expect(back).toBeLessThanOrEqual(d.outbound.packets - d.outbound.dropped);
    expect(back).toBeGreaterThanOrEqual(d.outbound.packets - d.outbound.dropped - 20);
  }, 30_000);

  it('a link nothing crossed is flagged no effect', async () => {
    hosted = await startHosted({ echo: { command: process.execPath, args: ['-e', UDP_ECHO], env: { PORT: 9 }, host: 'own' } });
    const fault = track(hosted, faultKinds['packet-loss'].create(spec({ loss: '50%', direction: 'inbound' }), hosted.ctx));
    await fault.start();
    await fault.stop();
    const m = fault.measured!()!;
    expect(m.noEffect).toBe(true);
    expect(m.summary).toBe('50.0% inbound set: no packets crossed the link');
  }, 30_000);
});
