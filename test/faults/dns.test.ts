/**
 * dns on a real host: its resolver (the /etc/netns resolv.conf that
 * `ip netns exec` mounts) is faultline's responder; outside a fault it
 * answers the scenario's mapping, and each fault answer reaches the
 * service's own getaddrinfo as a user would see it. Answers are counted by
 * kind; a fault no query matched is flagged no effect.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { once } from 'node:events';
import dnsPacket from 'dns-packet';
import { faultKinds } from '../../src/faults/index.ts';
import { announceSkip, startHosted, leftovers, inHost, track, type Hosted } from '../fixtures/hosts.ts';

const skip = announceSkip('test/faults/dns.test.ts');
let hosted: Hosted | undefined;
afterEach(async () => {
  await hosted?.close();
  if (hosted) expect(leftovers(hosted.network.id)).toEqual([]);
  hosted = undefined;
});

/** Node's dns.lookup (getaddrinfo, as http clients use) inside the host: "<address> <ms>" or "<code> <ms>". */
const LOOKUP = (name: string) =>
  `const t=Date.now();require('dns').lookup('${name}',{family:4},(e,a)=>{console.log(e?e.code:a,Date.now()-t);process.exit(0)})`;

/** Sends n A queries for a name over UDP, 10 at a time; resolves to the rcodes counted. */
async function rawQueries(server: string, name: string, n: number): Promise<Record<string, number>> {
  const s = dgram.createSocket('udp4');
  const rcodes: Record<string, number> = {};
  let got = 0;
  let wake = () => {};
  s.on('message', (m) => {
    const r = (dnsPacket.decode(m) as { rcode?: string }).rcode ?? '?';
    rcodes[r] = (rcodes[r] ?? 0) + 1;
    got++;
    wake();
  });
  s.bind(0, '0.0.0.0');
  await once(s, 'listening');
  for (let id = 1; id <= n; id++) {
    s.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] }), 53, server);
    while (id - got >= 10) await new Promise<void>((r) => (wake = r));
  }
  while (got < n) await new Promise<void>((r) => (wake = r));
  s.close();
  return rcodes;
}

const fault = (h: Hosted, params: Record<string, unknown>, probability?: number) =>
  track(h, faultKinds.dns.create({ name: 'dns fault', kind: 'dns', target: 'shop', params, probability }, h.ctx));

describe.skipIf(skip)('dns', () => {
  it('the mapping outside a fault; NXDOMAIN, SERVFAIL, a wrong address and a slow answer during one, per name pattern', async () => {
    hosted = await startHosted({ shop: { command: 'sleep', args: ['60'], host: { names: { 'payment.shop.test': '127.0.0.1', 'stock.shop.test': '127.0.0.1' } } } });
    const [shop] = hosted.network.of('shop');
    expect(readFileSync(`/etc/netns/${shop.ns}/resolv.conf`, 'utf8')).toContain(`nameserver ${shop.rootAddress}`);
    expect(await inHost(shop.ns, LOOKUP('payment.shop.test'))).toMatch(/^127\.0\.0\.1 \d+$/);
    expect(await inHost(shop.ns, LOOKUP('unmapped.shop.test'))).toMatch(/^ENOTFOUND /);

    const nx = fault(hosted, { answer: 'nxdomain', names: 'payment.*' });
    await nx.start();
    expect(await inHost(shop.ns, LOOKUP('payment.shop.test'))).toMatch(/^ENOTFOUND /);
    expect(await inHost(shop.ns, LOOKUP('stock.shop.test'))).toMatch(/^127\.0\.0\.1 /); // other names untouched
    await nx.stop();
    const m = nx.measured!()!;
    expect(m.noEffect).toBe(false);
    // getaddrinfo asked for the name (with and without the search domain, A then AAAA as it likes): every one counted.
    expect(m.values.nxdomain).toBeGreaterThanOrEqual(1);
    expect(m.values.queries).toBe(m.values.nxdomain);
    expect(m.summary).toMatch(/^nxdomain for payment\.\*: \d+ queries matched, \d+ nxdomain$/);
    expect(await inHost(shop.ns, LOOKUP('payment.shop.test'))).toMatch(/^127\.0\.0\.1 /);

    const sf = fault(hosted, { answer: 'servfail', names: ['payment.shop.test'] });
    await sf.start();
    expect(await inHost(shop.ns, LOOKUP('payment.shop.test'))).toMatch(/^EAI_AGAIN /);
    await sf.stop();
    expect(sf.measured!()!.values.servfail).toBeGreaterThanOrEqual(1);

    const wrong = fault(hosted, { answer: 'wrong-address', names: 'payment.*', address: '127.0.0.2' });
    await wrong.start();
    expect(await inHost(shop.ns, LOOKUP('payment.shop.test'))).toMatch(/^127\.0\.0\.2 /);
    await wrong.stop();

    const slow = fault(hosted, { answer: 'slow', names: 'payment.*', delay: '600ms' });
    await slow.start();
    const [addr, ms] = (await inHost(shop.ns, LOOKUP('payment.shop.test'))).split(' ');
    await slow.stop();
    expect(addr).toBe('127.0.0.1');
    expect(Number(ms)).toBeGreaterThanOrEqual(600);
    expect(slow.measured!()!.values.slow).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('no answer at all: the resolver times out; with probability 50% about half the queries get the normal answer', async () => {
    hosted = await startHosted({ shop: { command: 'sleep', args: ['60'], host: { names: { 'payment.shop.test': '127.0.0.1' } } } });
    const [shop] = hosted.network.of('shop');
    const timeout = fault(hosted, { answer: 'timeout', names: 'payment.*' });
    await timeout.start();
    // c-ares with a short timeout, so the test does not wait out glibc's 5 s × 2.
    const out = await inHost(shop.ns, `const r=new (require('dns').Resolver)({timeout:300,tries:2});r.setServers(['${shop.rootAddress}']);r.resolve4('payment.shop.test',(e,a)=>{console.log(e?e.code:a.join());process.exit(0)})`);
    await timeout.stop();
    expect(out).toBe('ETIMEOUT');
    expect(timeout.measured!()!.values.timeout).toBe(2);

    const half = fault(hosted, { answer: 'nxdomain', names: '*' }, 0.5);
    await half.start();
    // Raw queries (resolvers cache and merge lookups; the responder must see each one).
    const res = await rawQueries(shop.rootAddress, 'payment.shop.test', 400);
    await half.stop();
    const [ok, nx] = [res.NOERROR ?? 0, res.NXDOMAIN ?? 0];
    expect(ok + nx).toBe(400);
    const m = half.measured!()!;
    expect(m.values.queries).toBe(400);
    expect(m.values.nxdomain).toBe(nx);
    expect(m.values.normal).toBe(ok);
    expect(nx).toBeGreaterThan(140);
    expect(nx).toBeLessThan(260);
  }, 60_000);

  it('a fault no query matched is flagged no effect', async () => {
    hosted = await startHosted({ shop: { command: 'sleep', args: ['60'], host: 'own' } });
    const f = fault(hosted, { answer: 'servfail' });
    await f.start();
    await f.stop();
    expect(f.measured!()!).toMatchObject({ noEffect: true, summary: 'servfail for *: no query matched' });
  }, 30_000);
});
