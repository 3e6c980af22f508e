/**
 * The connection pool fills up under load: `GET /report` holds one of the
 * catalog's 5 pooled connections for ~20 ms, so the pool carries ~250 req/s.
 * Steps from 100 to 400 req/s find where it breaks.
 *
 * A resilient catalog waits at most 200 ms for a connection and answers 503
 * beyond that: the breaking point is an error-rate one at the pool's capacity,
 * and latency stays bounded. A naive one queues without limit: p99 grows with
 * every step past capacity.
 *
 *   npx faultline run scenarios/catalog-pool-exhausted.ts
 *
 * Needs PostgreSQL 15 (/usr/lib/postgresql/15/bin) and redis-server.
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem({ env: { POOL_SIZE: 5, DB_ACQUIRE_MS: 200 } });

export default defineScenario({
  name: `the connection pool fills up (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  requests: [{ name: 'report', method: 'GET', path: '/report', expect: { status: 200 } }],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'steps', from: 100, to: 400, steps: 4, stepDuration: '5s' },
  hypothesis: ['errors < 1%', 'p99 < 250ms'],
  services: sys.services,
  proxies: sys.proxies,
});
