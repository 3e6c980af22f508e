/**
 * Payment runs as 4 replicas; when the load reaches the expected peak, half
 * of them (chosen at random from `seed`) are killed with SIGKILL and
 * restarted 3 s later.
 *
 * A TCP proxy has one upstream, so there is none here: the shop balances its
 * payment calls itself, round-robin over PAYMENT_URLS (client-side balancing,
 * as a service mesh sidecar or a DNS-based client would). The resilient shop
 * retries a refused connection on the next replica — the request never
 * reached the dead one, so it cannot be charged twice — and two replicas
 * carry the load; the naive shop fails every call that lands on a dead one.
 *
 *   npx faultline run scenarios/kill-half-the-replicas.ts
 *   SHOP_MODE=naive npx faultline run scenarios/kill-half-the-replicas.ts
 *
 * Ports 4140–4144 on 127.0.0.1 must be free.
 */
import { defineScenario } from 'faultline';

const mode = process.env.SHOP_MODE ?? 'resilient';
const replicas = [4141, 4142, 4143, 4144];

export default defineScenario({
  name: `kill half the payment replicas (${mode} shop)`,
  target: 'http://127.0.0.1:4140',
  expectedPeak: 400,
  seed: 7,
  requests: [
    { name: 'products', method: 'GET', path: '/products', weight: 8, expect: { status: 200 } },
    { name: 'checkout', method: 'POST', path: '/checkout', json: { sku: 42 }, weight: 2, expect: { status: 200 } },
  ],
  baseline: { rate: '0.5x', duration: '4s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['p99 < 250ms', 'errors < 1%', 'products.p99 < 100ms'],
  services: {
    payment: {
      command: process.execPath,
      args: ['../src/demo/payment.ts'],
      ports: replicas, // one replica per port, each with PORT set
      ready: { url: 'http://127.0.0.1:{port}/health' },
      env: { PAYMENT_SLOTS: 8, PAYMENT_SERVICE_MS: 45 },
    },
    shop: {
      command: process.execPath,
      args: ['../src/demo/shop.ts'],
      ports: [4140],
      ready: { url: 'http://127.0.0.1:{port}/health' },
      env: { SHOP_MODE: mode, PAYMENT_URLS: replicas.map((p) => `http://127.0.0.1:${p}`).join(',') },
    },
  },
  faults: [{ name: 'half of payment killed', kind: 'kill', target: 'payment', replicas: '50%', restart: '3s', atLoad: '1x', mayBreak: ['checkout'] }],
});
