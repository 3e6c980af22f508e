/**
 * The disk is full under the database's directory for 5 s (`disk-fill` until
 * ENOSPC; the filler is removed at the end).
 *
 * PostgreSQL cannot write: INSERTs fail (and a full WAL disk can make it
 * restart itself). A resilient catalog fails writes fast and keeps serving
 * reads; everything is back once the space is.
 *
 * disk-fill refuses the root filesystem, so point the database at a small
 * filesystem of its own:
 *
 *   mkdir -p /mnt/catalog-pg && mount -t tmpfs -o size=128m tmpfs /mnt/catalog-pg
 *   CATALOG_PGDATA=/mnt/catalog-pg npx faultline run scenarios/catalog-disk-full.ts
 *
 * Needs PostgreSQL 15 and redis-server.
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem();

export default defineScenario({
  name: `disk full under the database (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  requests: [
    { name: 'items', weight: 8, request: ({ seq }) => ({ method: 'GET', path: `/items/${1 + ((seq * 37) % 100)}` }), expect: { status: 200 } },
    { name: 'orders', weight: 2, method: 'POST', path: '/orders', json: {}, expect: { status: 201 } },
  ],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['items.errors < 1%', 'items.p99 < 250ms', 'orders.errors < 1%'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [{ name: 'database disk full', mayBreak: true, kind: 'disk-fill', path: sys.pgdata, at: '5s', duration: '5s' }],
});
