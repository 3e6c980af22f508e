/**
 * A slow payment provider under load — the story of `faultline demo`, as a
 * file to copy. Payment answers 800 ms ± 200 ms late for 4 s at the expected
 * peak, with 6 s after it to recover. The shop runs naive by default (no
 * timeout on the payment call, one shared connection pool): watch
 * GET /products go down with checkout, and the time the shop takes to drain.
 *
 *   npx faultline run scenarios/payment-latency.ts
 *   SHOP_MODE=resilient npx faultline run scenarios/payment-latency.ts   # timeout + circuit breaker
 *
 * faultline starts payment, the shop and the fault proxy between them, and
 * stops them all at the end; ports 4120–4122 on 127.0.0.1 must be free.
 */
import { defineScenario } from 'faultline';

const mode = process.env.SHOP_MODE ?? 'naive';

export default defineScenario({
  name: `slow payment provider (${mode} shop)`,
  target: 'http://127.0.0.1:4120',
  expectedPeak: 400,
  requests: [
    { name: 'products', method: 'GET', path: '/products', weight: 8, expect: { status: 200 } },
    // "202 payment queued" (the resilient shop's fallback) is not a sale: it counts against the hypothesis.
    { name: 'checkout', method: 'POST', path: '/checkout', json: { sku: 42 }, weight: 2, expect: { status: 200 } },
  ],
  baseline: { rate: '0.5x', duration: '4s' },
  // Two steps: clean windows at the peak first, then the fault at the same level.
  load: { profile: 'steps', from: '1x', to: '1x', steps: 2, stepDuration: '10s' },
  hypothesis: ['p99 < 250ms', 'errors < 1%', 'products.p99 < 100ms'],
  services: {
    payment: {
      // The Node running faultline: Node 24, which runs the demo's TypeScript directly.
      command: process.execPath,
      args: ['../src/demo/payment.ts'],
      ports: [4122],
      // Ready when it answers over HTTP (not merely when something holds the port).
      ready: { url: 'http://127.0.0.1:{port}/health' },
      env: { PAYMENT_SLOTS: 8, PAYMENT_SERVICE_MS: 45 },
    },
    shop: {
      command: process.execPath,
      args: ['../src/demo/shop.ts'],
      ports: [4120],
      ready: { url: 'http://127.0.0.1:{port}/health' },
      env: { SHOP_MODE: mode, PAYMENT_URLS: 'http://127.0.0.1:4121' },
    },
  },
  // The shop calls payment through this proxy; the latency fault acts on it.
  proxies: { payment: { listen: '127.0.0.1:4121', upstream: '127.0.0.1:4122' } },
  faults: [{ name: 'slow payment', kind: 'latency', target: 'payment', latency: '800ms', jitter: '200ms', atStage: 2, duration: '4s', mayBreak: ['checkout'] }],
});
