/**
 * link-down on a real host: while down, nothing reaches the service (from the
 * root namespace or another host) and the lost packets are counted; after,
 * the link is up with the same addresses and its default route back, and the
 * service answers again — in the root namespace and between hosts.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { faultKinds } from '../../src/faults/index.ts';
import { freePorts } from '../../src/demo/ports.ts';
import { announceSkip, startHosted, leftovers, openEntries, get, inHost, GET, HTTP_SERVICE, track, type Hosted } from '../fixtures/hosts.ts';

const skip = announceSkip('test/faults/link-down.test.ts');
let hosted: Hosted | undefined;
afterEach(async () => {
  await hosted?.close();
  if (hosted) expect(leftovers(hosted.network.id)).toEqual([]);
  hosted = undefined;
});

const routes = (ns: string) => execFileSync('ip', ['-n', ns, 'route', 'show'], { encoding: 'utf8' }).trim();
const addrs = (ns: string, dev: string) => execFileSync('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', dev], { encoding: 'utf8' }).replace(/\s+valid_lft.*$/gm, '').trim();

describe.skipIf(skip)('link-down', () => {
  it('cuts the host off for the duration, counts what was lost, and restores addresses and routes', async () => {
    const [pa, pb] = await freePorts(2);
    hosted = await startHosted({
      payment: { command: process.execPath, args: [HTTP_SERVICE], ports: [pa], host: 'own' },
      shop: { command: process.execPath, args: [HTTP_SERVICE], ports: [pb], host: 'own' },
    });
    const [payment] = hosted.network.of('payment');
    const [shop] = hosted.network.of('shop');
    const before = { routes: routes(payment.ns), addrs: addrs(payment.ns, payment.nsIf) };
    expect(before.routes).toContain(`default via ${payment.rootAddress}`);
    expect(await get(pa)).toBe('ok 200');
    expect(await inHost(shop.ns, GET(pa))).toBe('ok 200');

    const fault = track(hosted, faultKinds['link-down'].create({ name: 'payment link down', kind: 'link-down', target: 'payment', params: {} }, hosted.ctx));
    await fault.start();
    expect(routes(payment.ns)).not.toContain('default');
    expect(await get(pa, 800)).toMatch(/^error /);
    expect(await inHost(shop.ns, GET(pa, 800))).toMatch(/^error /);
    expect(await get(pb)).toBe('ok 200'); // the other host is untouched
    await sleep(300);
    await fault.stop();

    const m = fault.measured!()!;
    expect(m.noEffect).toBe(false);
    expect(m.values.packetsLost).toBeGreaterThan(0);
    expect(m.values.downMs).toBeGreaterThanOrEqual(1000);
    expect(m.values.restored).toBe(1);
    expect(m.summary).toMatch(/^link down \d+\.\d\d s: [\d,]+ packets sent toward it lost$/);
    expect(routes(payment.ns)).toBe(before.routes);
    expect(addrs(payment.ns, payment.nsIf)).toBe(before.addrs);
    expect(await get(pa)).toBe('ok 200');
    expect(await inHost(shop.ns, GET(pa))).toBe('ok 200');
    expect((await openEntries(hosted)).filter((e) => e.fault === 'payment link down')).toEqual([]);
  }, 40_000);

  it('counts what the root namespace sent toward it (connections to 127.0.0.1 that NAT sends over the link)', async () => {
    const [pa] = await freePorts(1);
    hosted = await startHosted({ payment: { command: process.execPath, args: [HTTP_SERVICE], ports: [pa], host: 'own' } });
    const fault = track(hosted, faultKinds['link-down'].create({ name: 'payment link down', kind: 'link-down', target: 'payment', params: {} }, hosted.ctx));
    await fault.start();
    expect(await get(pa, 800)).toMatch(/^error /);
    await fault.stop();
    expect(fault.measured!()!.values.packetsLost).toBeGreaterThan(0);
    expect(await get(pa)).toBe('ok 200');
  }, 30_000);

  it('a link nobody used while it was down is flagged no effect', async () => {
    hosted = await startHosted({ idle: { command: 'sleep', args: ['60'], host: 'own' } });
    const fault = track(hosted, faultKinds['link-down'].create({ name: 'idle link down', kind: 'link-down', target: 'idle', params: {} }, hosted.ctx));
    await fault.start();
    await fault.stop();
    expect(fault.measured!()!.noEffect).toBe(true);
  }, 20_000);
});
