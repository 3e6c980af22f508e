/**
 * `faultline demo --tls`: the demo's scenario with payment over TLS validates,
 * points the shop at the TLS proxy over https, and adds the expired-certificate
 * fault between the slow payment and the crash. (The experiment itself runs end
 * to end in test/scenarios/expired-certificate.test.ts.)
 */
import { describe, it, expect } from 'vitest';
import { normalize } from '../../src/config/scenario.ts';
import { demoScenario } from '../../src/demo/scenario.ts';

describe('demo --tls', () => {
  it('payment over a TLS proxy, the shop on https, an expired certificate at 1.5x; without --tls nothing of it', () => {
    const ports = { shop: 20540, proxy: 20541, payment: 20542 };
    const tls = normalize(demoScenario('naive', ports, 0.3, { tls: true }));
    expect(tls.proxies.payment).toMatchObject({ mode: 'tls', listen: '127.0.0.1:20541' });
    expect((tls.services.shop as { env: Record<string, string> }).env.PAYMENT_URLS).toBe('https://127.0.0.1:20541');
    const f = tls.faults.find((x) => x.kind === 'tls')!;
    expect(f).toMatchObject({ name: 'payment certificate expired', target: 'payment', atLoad: 600, params: { mode: 'expired', existing: 'close' } });
    expect(tls.faults.map((x) => x.name)).toEqual(['slow payment', 'payment crash', 'payment certificate expired']);
    const plain = normalize(demoScenario('naive', ports, 0.3));
    expect(plain.proxies.payment).toMatchObject({ mode: 'tcp' });
    expect(plain.faults.some((x) => x.kind === 'tls')).toBe(false);
  });
});
