/**
 * A table is locked for 5 s: `psql` takes ACCESS EXCLUSIVE on `orders` and
 * holds it (a `hold` fault: it starts when psql prints "locked", so the lock
 * is really held, and ends when psql has exited).
 *
 * A resilient catalog's INSERTs give up after its 1 s statement timeout (503)
 * and its reads never notice; a naive one waits out the lock on every order,
 * and its pool fills with waiting INSERTs.
 *
 *   npx faultline run scenarios/catalog-table-lock.ts
 *
 * Needs PostgreSQL 15 (/usr/lib/postgresql/15/bin, psql) and redis-server.
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem();

export default defineScenario({
  name: `a table locked for 5 s (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  requests: [
    { name: 'items', weight: 8, request: ({ seq }) => ({ method: 'GET', path: `/items/${1 + ((seq * 37) % 100)}` }), expect: { status: 200 } },
    { name: 'orders', weight: 2, method: 'POST', path: '/orders', json: {}, expect: { status: 201 } },
  ],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['items.p99 < 100ms', 'items.errors < 1%', 'orders.p99 < 1500ms'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [
    {
      name: 'orders locked',
      kind: 'hold',
      target: 'db',
      command: sys.psql('BEGIN', 'LOCK TABLE orders IN ACCESS EXCLUSIVE MODE', '\\echo locked', 'SELECT pg_sleep(3600)'),
      ready: { line: '^locked$', timeout: '10s' },
      at: '5s',
      duration: '5s',
    },
  ],
});
