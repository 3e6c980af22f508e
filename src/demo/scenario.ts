/**
 * The demo's experiment: the shop (products from memory, checkout through a
 * fault proxy to payment) under steps from 1× to 3× of its expected peak,
 * with a slow payment provider at the peak and a payment crash at 2×, a
 * stage apart so each fault's recovery is seen on its own.
 *
 * Sizing (2-core machine): payment serves 8 payments at a time for 45 ms,
 * about 178 payments/s. Checkout is 2 of every 10 requests, so payment
 * saturates near 890 req/s (2.2× the 400 req/s expected peak) and the shop
 * breaks at the 2.5× step, while the generator sends at most 1,200 req/s, a
 * few percent of what one worker thread can send. `scale` shortens every stage and fault for tests
 * (`--quick`, FAULTLINE_DEMO_SCALE): the same experiment, shorter.
 */
import { fileURLToPath } from 'node:url';
import type { ScenarioInput } from '../config/schema.ts';

export type ShopMode = 'resilient' | 'naive';

/** Where the demo system listens (all on 127.0.0.1). */
export interface DemoPorts {
  shop: number;
  /** The fault proxy the shop calls payment through. */
  proxy: number;
  payment: number;
}

export const PAYMENT_SCRIPT = fileURLToPath(new URL('./payment.ts', import.meta.url));
export const SHOP_SCRIPT = fileURLToPath(new URL('./shop.ts', import.meta.url));

/** The demo's numbers, in one place. */
export const DEMO = {
  expectedPeak: 400,
  paymentSlots: 8,
  paymentServiceMs: 45,
  shopWorkers: 32,
  paymentConnections: 16,
  paymentTimeoutMs: 200,
  baselineMs: 5000,
  stepMs: 8000,
  slowPaymentMs: 4000,
  restartMs: 2000,
  /** --tls: payment's certificate expired for this long at 1.5× the peak. */
  expiredCertMs: 3000,
} as const;

/** The quick scale (`--quick`): under a third of the full run. */
export const QUICK_SCALE = 0.3;

/**
 * `tls`: the shop calls payment over TLS, through a TLS-mode proxy with the run's
 * CA (the shop trusts it through FAULTLINE_CA_FILE), and payment's certificate
 * expires for a while at 1.5× the peak, between the two other faults.
 */
export function demoScenario(mode: ShopMode, ports: DemoPorts, scale = 1, o: { tls?: boolean } = {}): ScenarioInput {
  const d = (ms: number) => `${Math.max(100, Math.round(ms * scale))}ms`;
  const tls = o.tls === true;
  return {
    name: `demo: ${mode} shop, slow payment provider${tls ? ' (payment over TLS)' : ''}`,
    description: 'faultline demo: a payment provider slows down, then crashes, under steps to 3× the expected peak',
    target: `http://127.0.0.1:${ports.shop}`,
    expectedPeak: DEMO.expectedPeak,
    requests: [
      { name: 'products', method: 'GET', path: '/products', weight: 8, expect: { status: 200 } },
      // "202 payment queued" is the resilient shop degrading gracefully, not a sale: it counts against the hypothesis.
      { name: 'checkout', method: 'POST', path: '/checkout', json: { sku: 42 }, weight: 2, expect: { status: 200 } },
    ],
    baseline: { rate: '0.5x', duration: d(DEMO.baselineMs) },
    load: { profile: 'steps', from: '1x', to: '3x', steps: 5, stepDuration: d(DEMO.stepMs) },
    hypothesis: ['p99 < 250ms', 'errors < 1%', 'products.p99 < 100ms'],
    // Shorter runs judge shorter windows, so a fault of a second or two still spans several.
    window: scale >= 1 ? '1s' : '500ms',
    // Enough connections that the naive shop's backlog never runs the generator out of them.
    engine: { connections: 4000 },
    services: {
      payment: {
        command: process.execPath,
        args: [PAYMENT_SCRIPT],
        ports: [ports.payment],
        env: { PAYMENT_SLOTS: DEMO.paymentSlots, PAYMENT_SERVICE_MS: DEMO.paymentServiceMs },
        // Both servers stop at once on SIGTERM; a short grace keeps the demo's exit prompt.
        stopGrace: '1s',
      },
      shop: {
        command: process.execPath,
        args: [SHOP_SCRIPT],
        ports: [ports.shop],
        env: {
          SHOP_MODE: mode,
          PAYMENT_URLS: `${tls ? 'https' : 'http'}://127.0.0.1:${ports.proxy}`,
          SHOP_WORKERS: DEMO.shopWorkers,
          PAYMENT_CONNECTIONS: DEMO.paymentConnections,
          PAYMENT_TIMEOUT_MS: DEMO.paymentTimeoutMs,
        },
        stopGrace: '1s',
      },
    },
    proxies: { payment: { listen: `127.0.0.1:${ports.proxy}`, upstream: `127.0.0.1:${ports.payment}`, mode: tls ? 'tls' : 'tcp' } },
    faults: [
      // Payment trouble may hurt checkout (it needs payment); anything beyond it — products — fails the run.
      { name: 'slow payment', kind: 'latency', target: 'payment', latency: '800ms', jitter: '200ms', atLoad: '1x', duration: d(DEMO.slowPaymentMs), mayBreak: ['checkout'] },
      { name: 'payment crash', kind: 'kill', target: 'payment', restart: d(DEMO.restartMs), atLoad: '2x', mayBreak: ['checkout'] },
      ...(tls ? [{ name: 'payment certificate expired', kind: 'tls', target: 'payment', mode: 'expired', atLoad: '1.5x', duration: d(DEMO.expiredCertMs), mayBreak: ['checkout'] }] : []),
    ],
  };
}
