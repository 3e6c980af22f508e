/**
 * The primary database goes down: PostgreSQL is killed (SIGKILL, the whole
 * server) at 5 s and restarted 3 s later; it recovers from its WAL.
 *
 * A resilient catalog keeps serving reads from its cache (items stay green)
 * and fails writes fast with 503 while the database is away; the fault table
 * shows restart-to-ready next to the clients' time to recovery, and the blast
 * radius: orders ✗, items ✓. Pass `CATALOG_MODE=naive` to compare.
 *
 *   npx faultline run scenarios/catalog-db-down.ts
 *
 * Needs PostgreSQL 15 (/usr/lib/postgresql/15/bin) and redis-server (Debian packages).
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem();

export default defineScenario({
  name: `the primary database goes down (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  requests: [
    { name: 'items', weight: 8, request: ({ seq }) => ({ method: 'GET', path: `/items/${1 + ((seq * 37) % 100)}` }), expect: { status: 200 } },
    { name: 'orders', weight: 2, method: 'POST', path: '/orders', json: {}, expect: { status: 201 } },
  ],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['errors < 1%', 'p99 < 250ms', 'items.errors < 1%'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [{ name: 'database killed', mayBreak: true, kind: 'kill', target: 'db', restart: '3s', at: '5s' }],
});
