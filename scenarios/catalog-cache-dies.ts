/**
 * The cache dies. Redis is killed at 5 s and comes back 4 s later (empty).
 *
 * A resilient catalog falls back to PostgreSQL: every read is a query, no
 * errors (on loopback a query costs about what a Redis GET does, so latency
 * barely moves). A naive one queues its cache calls while Redis is away,
 * and reads stall until it is back.
 *
 *   npx faultline run scenarios/catalog-cache-dies.ts
 *   CATALOG_MODE=naive npx faultline run scenarios/catalog-cache-dies.ts
 *
 * Needs PostgreSQL 15 (/usr/lib/postgresql/15/bin) and redis-server (Debian packages).
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem();

export default defineScenario({
  name: `the cache dies (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  seed: 15,
  requests: [{ name: 'items', request: ({ seq }) => ({ method: 'GET', path: `/items/${1 + ((seq * 37) % 100)}` }), expect: { status: 200 } }],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['errors < 1%', 'p99 < 250ms'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [{ name: 'cache killed', kind: 'kill', target: 'cache', restart: '4s', at: '5s' }],
});
