/**
 * Where does checkout break? An adaptive search: it raises the rate of
 * POST /checkout by 1.5× per probe until the hypothesis fails, then bisects
 * between the last passing and the first failing rate to within 5%.
 * Payment serves 8 payments at a time for 45 ms (about 178/s), so expect the
 * answer near there: the resilient shop starts answering "202 payment queued"
 * (an error here) when payment cannot keep up.
 *
 *   npx faultline run scenarios/checkout-breakpoint.ts
 *   SHOP_MODE=naive npx faultline run scenarios/checkout-breakpoint.ts
 *
 * Ports 4110–4112 on 127.0.0.1 must be free.
 */
import { defineScenario } from 'faultline';

const mode = process.env.SHOP_MODE ?? 'resilient';

export default defineScenario({
  name: `checkout breaking point (${mode} shop)`,
  target: 'http://127.0.0.1:4110',
  expectedPeak: 80,
  requests: [{ name: 'checkout', method: 'POST', path: '/checkout', json: { sku: 42 }, expect: { status: 200 } }],
  load: { profile: 'search', from: '0.5x', to: '5x', growth: 1.5, precision: '5%', probeDuration: '4s', warmup: '1s', budget: '80s' },
  // The first probe (0.5× the peak) proves the hypothesis at low load; a separate baseline
  // at 10% of an 80 req/s peak would have too few requests per window to judge.
  baseline: false,
  hypothesis: ['p99 < 250ms', 'errors < 1%'],
  services: {
    payment: { command: process.execPath, args: ['../src/demo/payment.ts'], ports: [4112], ready: { url: 'http://127.0.0.1:{port}/health' }, env: { PAYMENT_SLOTS: 8, PAYMENT_SERVICE_MS: 45 } },
    shop: { command: process.execPath, args: ['../src/demo/shop.ts'], ports: [4110], ready: { url: 'http://127.0.0.1:{port}/health' }, env: { SHOP_MODE: mode, PAYMENT_URLS: 'http://127.0.0.1:4111' } },
  },
  proxies: { payment: { listen: '127.0.0.1:4111', upstream: '127.0.0.1:4112' } },
});
