/**
 * CPU starved: the catalog is throttled to 0.1 of a core for 5 s (a cgroup
 * CFS quota; `method: hog` where there is no cpu controller). The fault table
 * shows the CPU it really got beside the setting.
 *
 * Nothing in the service can make up for missing CPU: what a resilient one
 * should show is latency that rises while starved and falls back at once, with
 * no errors piling up behind it.
 *
 *   npx faultline run scenarios/catalog-cpu-starved.ts
 *
 * Needs PostgreSQL 15, redis-server, and root for the cgroup.
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem();

export default defineScenario({
  name: `CPU starved (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  requests: [{ name: 'items', request: ({ seq }) => ({ method: 'GET', path: `/items/${1 + ((seq * 37) % 100)}` }), expect: { status: 200 } }],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '15s' },
  hypothesis: ['errors < 1%', 'p99 < 250ms'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [{ name: 'catalog starved', mayBreak: true, kind: 'cpu', target: 'api', cores: 0.1, at: '5s', duration: '5s' }],
});
