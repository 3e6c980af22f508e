/**
 * Payment's TLS certificate expires under load. The shop calls payment over
 * TLS through faultline's TLS proxy, which serves certificates from a
 * throwaway CA made for this run; the shop trusts that CA (faultline gives
 * its managed services FAULTLINE_CA_FILE). For 4 s at the expected peak the
 * proxy serves a certificate that expired yesterday, and closes the
 * connections open at that moment, as a restart with the new certificate
 * would: every payment call must handshake again, and a verifying client
 * refuses.
 *
 * Hypothesis: p99 < 250ms, errors < 1%, products.p99 < 100ms; the expired
 * certificate may break checkout (it needs payment), never products.
 *
 * What a resilient shop should show: checkout answers "202 payment queued"
 * within its deadline (its circuit breaker opens after a few refused
 * handshakes and stops trying), products stay fast, and checkout is paid again
 * within about a second of the certificate being valid again. The naive shop
 * answers 502 "payment failed" to every checkout while the certificate is
 * expired. Neither may call payment without verifying it: `--insecure` is for
 * faultline's own load, not for the shop.
 *
 *   npx faultline run scenarios/expired-certificate.ts                       # naive shop
 *   SHOP_MODE=resilient npx faultline run scenarios/expired-certificate.ts   # deadline + breaker + fallback
 *
 * faultline starts payment, the shop and the TLS proxy between them, and stops
 * them all at the end (the CA's certificate file is removed too); ports
 * 4270–4272 on 127.0.0.1 must be free. The fault table shows the handshakes
 * the proxy saw fail.
 */
import { defineScenario } from 'faultline';

const mode = process.env.SHOP_MODE ?? 'naive';

export default defineScenario({
  name: `payment's certificate expired (${mode} shop)`,
  target: 'http://127.0.0.1:4270',
  expectedPeak: 400,
  requests: [
    { name: 'products', method: 'GET', path: '/products', weight: 8, expect: { status: 200 } },
    // "202 payment queued" (the resilient shop's fallback) is not a sale: it counts against the hypothesis.
    { name: 'checkout', method: 'POST', path: '/checkout', json: { sku: 42 }, weight: 2, expect: { status: 200 } },
  ],
  baseline: { rate: '0.5x', duration: '4s' },
  // Two steps at the peak: clean windows first, then the fault at the same level.
  load: { profile: 'steps', from: '1x', to: '1x', steps: 2, stepDuration: '10s' },
  hypothesis: ['p99 < 250ms', 'errors < 1%', 'products.p99 < 100ms'],
  services: {
    payment: {
      command: process.execPath,
      args: ['../src/demo/payment.ts'],
      ports: [4272],
      ready: { url: 'http://127.0.0.1:{port}/health' },
      env: { PAYMENT_SLOTS: 8, PAYMENT_SERVICE_MS: 45 },
    },
    shop: {
      command: process.execPath,
      args: ['../src/demo/shop.ts'],
      ports: [4270],
      ready: { url: 'http://127.0.0.1:{port}/health' },
      // https: the shop verifies payment's certificate against FAULTLINE_CA_FILE.
      env: { SHOP_MODE: mode, PAYMENT_URLS: 'https://127.0.0.1:4271' },
    },
  },
  // TLS terminates here with the run's CA; plaintext goes on to payment.
  proxies: { payment: { listen: '127.0.0.1:4271', upstream: '127.0.0.1:4272', mode: 'tls' } },
  faults: [{ name: 'payment certificate expired', kind: 'tls', target: 'payment', mode: 'expired', atStage: 2, duration: '4s', mayBreak: ['checkout'] }],
});
