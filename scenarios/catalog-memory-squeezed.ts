/**
 * Memory squeezed: Redis, the cache, is limited to 8 MiB more than it holds
 * (a cgroup memory limit) while the catalog keeps filling it; past the limit
 * the kernel OOM-kills it, and it is restarted 1 s later (restart-to-ready
 * measured, as for a kill).
 *
 * A resilient catalog shows the cache-dies picture: reads fall back to the
 * database, latency rises, no errors.
 *
 *   npx faultline run scenarios/catalog-memory-squeezed.ts
 *
 * Needs PostgreSQL 15, redis-server, and root for the cgroup.
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem();

export default defineScenario({
  name: `memory squeezed (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  requests: [
    // Distinct items, so the cache keeps growing.
    { name: 'items', request: ({ seq }) => ({ method: 'GET', path: `/items/${1 + (seq % 1000)}` }), expect: { status: 200 } },
  ],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['errors < 1%', 'p99 < 250ms'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [{ name: 'cache squeezed', kind: 'memory', target: 'cache', limit: '8MiB', restart: '1s', at: '5s', duration: '6s' }],
});
