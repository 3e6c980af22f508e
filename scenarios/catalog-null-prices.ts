/**
 * Nulls in a dependency's response: the pricing service's answers come back
 * with `price: null` half of the time (a body-patch fault on the HTTP proxy
 * between the catalog and the pricing service), for 5 s.
 *
 * A resilient catalog checks what it gets and falls back to the list price in
 * its database (answering `source: "list"`); a naive one does arithmetic on
 * null and answers 500.
 *
 *   npx faultline run scenarios/catalog-null-prices.ts
 *   CATALOG_MODE=naive npx faultline run scenarios/catalog-null-prices.ts
 *
 * Needs PostgreSQL 15 and redis-server.
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem();

export default defineScenario({
  name: `nulls in the pricing service's answers (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 100,
  seed: 15,
  requests: [{ name: 'price', request: ({ seq }) => ({ method: 'GET', path: `/price/${1 + ((seq * 37) % 100)}` }), expect: { status: 200 } }],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['errors < 1%', 'p99 < 250ms'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [{ name: 'null prices', kind: 'body-patch', target: 'prices', op: 'null', fields: ['price'], probability: 0.5, at: '5s', duration: '5s' }],
});
