/**
 * `.env` removed and the service restarted: the catalog's .env is taken away
 * at 5 s and the catalog restarted; 5 s later the file is put back (byte for
 * byte) and the catalog restarted again.
 *
 * A resilient catalog starts from the same settings in its environment (the
 * twelve-factor way): one restart's worth of refused connections, then green.
 * A naive one refuses to start without its file and stays down until the file
 * is back — the fault table shows both restarts.
 *
 *   npx faultline run scenarios/catalog-env-removed.ts
 *   CATALOG_MODE=naive npx faultline run scenarios/catalog-env-removed.ts
 *
 * Needs PostgreSQL 15 and redis-server.
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem();

export default defineScenario({
  name: `.env removed and the service restarted (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  requests: [{ name: 'items', request: ({ seq }) => ({ method: 'GET', path: `/items/${1 + ((seq * 37) % 100)}` }), expect: { status: 200 } }],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['errors < 1%', 'p99 < 250ms'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [{ name: '.env removed', mayBreak: true, kind: 'file', target: 'api', path: sys.envFile, action: 'remove', restart: true, at: '5s', duration: '5s' }],
});
