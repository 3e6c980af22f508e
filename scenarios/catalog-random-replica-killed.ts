/**
 * Chaos Monkey: three catalog replicas behind a front; every 10 s one of them,
 * picked at random from the seed, is killed (SIGKILL) and restarted 2 s later.
 *
 * A resilient system loses nothing: the front retries a refused connection on
 * another replica (the request never reached the dead one), so errors stay at
 * zero and only the requests in flight on the killed replica fail.
 *
 *   npx faultline run scenarios/catalog-random-replica-killed.ts
 *
 * Needs PostgreSQL 15 and redis-server.
 */
import { defineScenario } from 'faultline';
import { catalogSystem } from '../src/demo/catalog/system.ts';

const sys = await catalogSystem({ replicas: 3 });

export default defineScenario({
  name: `a random replica killed every 10 s (${process.env.CATALOG_MODE ?? 'resilient'} catalog)`,
  target: sys.target,
  expectedPeak: 200,
  seed: 15,
  requests: [{ name: 'items', request: ({ seq }) => ({ method: 'GET', path: `/items/${1 + ((seq * 37) % 100)}` }), expect: { status: 200 } }],
  baseline: { rate: '0.5x', duration: '3s' },
  load: { profile: 'constant', rate: '1x', duration: '30s' },
  hypothesis: ['errors < 1%', 'p99 < 250ms'],
  services: sys.services,
  proxies: sys.proxies,
  faults: [{ name: 'replica killed', kind: 'kill', targets: sys.apis, pick: 'random', every: '10s', at: '2s', restart: '2s' }],
});
