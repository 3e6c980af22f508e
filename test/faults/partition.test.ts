/**
 * partition on real hosts: shop ↔ payment cut while both keep serving the
 * root namespace (the load); one-way cuts drop one direction only; a host
 * cut off from the outside gets nothing in. Dropped packets are counted, and
 * everything flows again after.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { faultKinds } from '../../src/faults/index.ts';
import type { Fault } from '../../src/faults/types.ts';
import { freePorts } from '../../src/demo/ports.ts';
import { announceSkip, startHosted, leftovers, openEntries, get, inHost, GET, HTTP_SERVICE, UDP_ECHO, echo, echoReady, track, type Hosted } from '../fixtures/hosts.ts';

const skip = announceSkip('test/faults/partition.test.ts');
let hosted: Hosted | undefined;
afterEach(async () => {
  await hosted?.close();
  if (hosted) expect(leftovers(hosted.network.id)).toEqual([]);
  hosted = undefined;
});

const create = (h: Hosted, params: Record<string, unknown>, target = 'shop'): Fault =>
  track(h, faultKinds.partition.create({ name: 'split', kind: 'partition', target, params }, h.ctx));

async function twoHosts(): Promise<{ h: Hosted; ps: number; pp: number }> {
  const [ps, pp] = await freePorts(2);
  const h = await startHosted({
    payment: { command: process.execPath, args: [HTTP_SERVICE], ports: [pp], host: 'own' },
    shop: { command: process.execPath, args: [HTTP_SERVICE], ports: [ps], host: 'own' },
  });
  return { h, ps, pp };
}

describe.skipIf(skip)('partition', () => {
  it('shop ↔ payment: neither reaches the other, both keep serving the root namespace, then it heals', async () => {
    const { h, ps, pp } = await twoHosts();
    hosted = h;
    const [shop] = h.network.of('shop');
    const [payment] = h.network.of('payment');
    expect(await inHost(shop.ns, GET(pp))).toBe('ok 200');
    expect(await inHost(payment.ns, GET(ps))).toBe('ok 200');

    const fault = create(h, { peer: 'payment' });
    await fault.start();
    expect(await inHost(shop.ns, GET(pp, 700))).toMatch(/^error /);
    expect(await inHost(payment.ns, GET(ps, 700))).toMatch(/^error /);
    expect(await get(ps)).toBe('ok 200');
    expect(await get(pp)).toBe('ok 200');
    await fault.stop();

    const m = fault.measured!()!;
    expect(m.summary).toMatch(/^partition shop ↔ payment: [\d,]+ packets dropped/);
    expect(m.values.droppedOutbound).toBeGreaterThan(0); // shop's SYNs to payment
    expect(m.values.droppedInbound).toBeGreaterThan(0); // payment's SYNs to shop
    expect(m.noEffect).toBe(false);
    expect(await inHost(shop.ns, GET(pp))).toBe('ok 200');
    expect(await inHost(payment.ns, GET(ps))).toBe('ok 200');
    expect((await openEntries(h)).filter((e) => e.fault === 'split')).toEqual([]);
  }, 60_000);

  it('one way (shop → payment dropped): only that direction is counted', async () => {
    const { h, ps, pp } = await twoHosts();
    hosted = h;
    const [shop] = h.network.of('shop');
    const [payment] = h.network.of('payment');
    const fault = create(h, { peer: 'payment', direction: 'outbound' });
    await fault.start();
    // shop's SYN is dropped; payment's SYN reaches shop but shop's SYN-ACK is dropped: both fail, only "outbound" counts.
    expect(await inHost(shop.ns, GET(pp, 700))).toMatch(/^error /);
    expect(await inHost(payment.ns, GET(ps, 700))).toMatch(/^error /);
    await fault.stop();
    const m = fault.measured!()!;
    expect(m.values.droppedOutbound).toBeGreaterThan(0);
    expect(m.values.droppedInbound).toBe(0);
  }, 60_000);

  it('a host cut off from the outside, inbound only: nothing reaches it, it still sends', async () => {
    hosted = await startHosted({ echo: { command: process.execPath, args: ['-e', UDP_ECHO], env: { PORT: 9 }, host: 'own' } });
    const [host] = hosted.network.of('echo');
    await echoReady(host.address);
    const fault = create(hosted, { direction: 'inbound' }, 'echo');
    await fault.start();
    expect(await echo(host.address, 9, 100)).toBe(0);
    // Its own packets still leave (a DNS query reaches faultline's responder, which answers into the void).
    await inHost(host.ns, `const r=new (require('dns').Resolver)({timeout:200,tries:1});r.setServers(['${host.rootAddress}']);r.resolve4('x.test',()=>{});setTimeout(()=>process.exit(0),400)`);
    await fault.stop();
    const m = fault.measured!()!;
    expect(m.values.droppedInbound).toBeGreaterThanOrEqual(100);
    expect(m.values.droppedOutbound).toBe(0);
    expect(host.dns.counts.queries).toBeGreaterThan(0);
    expect(await echo(host.address, 9, 100)).toBe(100);
  }, 60_000);

  it('a peer that is not a host is refused at start', async () => {
    const { h } = await twoHosts();
    hosted = h;
    const fault = create(h, { peer: 'nowhere' });
    await expect(fault.start()).rejects.toThrow(/"nowhere" has no host/);
    await fault.stop();
  }, 30_000);
});
