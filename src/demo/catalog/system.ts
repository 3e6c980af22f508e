/**
 * The catalog system, as a scenario's `services` and `proxies`: PostgreSQL
 * (`db`, Debian's initdb/postgres in a directory of its own), Redis (`cache`,
 * redis-server with no persistence), the pricing service (`prices`, behind an
 * HTTP fault proxy also named `prices`) and the catalog itself (`api`, or
 * `api-0` … `api-<n-1>` behind `front` when `replicas` > 1), each on a loopback
 * port picked free when the scenario is loaded.
 *
 * ```ts
 * const sys = await catalogSystem({ replicas: 1 });
 * export default defineScenario({ target: sys.target, services: sys.services, proxies: sys.proxies, … });
 * ```
 *
 * The database's files go under CATALOG_PGDATA when it is set (a small
 * filesystem for the disk-full scenario), else under the system's own
 * directory in the temporary directory; both are removed when the database
 * stops normally.
 */
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { freePorts } from '../ports.ts';

const here = resolve(import.meta.dirname);

export interface CatalogOptions {
  /** resilient (default: CATALOG_MODE or resilient) or naive. */
  mode?: 'resilient' | 'naive';
  /** Replicas of the catalog; more than one puts `front` before `api-0` … `api-<n-1>`. */
  replicas?: number;
  /** Directory for the database's files (default: CATALOG_PGDATA, else the system's own directory). */
  pgdata?: string;
  /** Extra environment for the catalog replicas (POOL_SIZE, DB_ACQUIRE_MS …). */
  env?: Record<string, string | number>;
}

export interface CatalogSystem {
  /** The URL load goes to (the catalog, or its front). */
  target: string;
  services: Record<string, Record<string, unknown>>;
  proxies: Record<string, Record<string, unknown>>;
  /** The catalog's .env (written when the database first starts). */
  envFile: string;
  /** Where the database's files are. */
  pgdata: string;
  ports: { db: number; cache: number; prices: number; pricesProxy: number; api: number[]; front?: number };
  /** Names of the catalog replicas' services. */
  apis: string[];
  /** argv-safe shell command running psql against the database with these SQL commands in one session. */
  psql(...sql: string[]): string;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export async function catalogSystem(opts: CatalogOptions = {}): Promise<CatalogSystem> {
  const mode = opts.mode ?? ((process.env.CATALOG_MODE as 'naive' | undefined) || 'resilient');
  const n = opts.replicas ?? 1;
  const [db, cache, prices, pricesProxy, ...rest] = await freePorts(4 + n + (n > 1 ? 1 : 0));
  const api = rest.slice(0, n);
  const front = n > 1 ? rest[n] : undefined;
  const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const dir = join(tmpdir(), `faultline-catalog-${id}`);
  const base = opts.pgdata ?? process.env.CATALOG_PGDATA;
  const pgdata = base ? join(resolve(base), `catalog-${id}`) : join(dir, 'pg');
  const envFile = join(dir, '.env');
  const urls = {
    DATABASE_URL: `postgres://postgres@127.0.0.1:${db}/postgres`,
    REDIS_URL: `redis://127.0.0.1:${cache}`,
    PRICES_URL: `http://127.0.0.1:${pricesProxy}`,
  };
  const node = process.execPath;
  const services: CatalogSystem['services'] = {
    db: {
      command: '/bin/sh',
      args: [join(here, 'postgres.sh')],
      ports: [db],
      env: { PGDATA_DIR: pgdata, CATALOG_DIR: dir, CATALOG_ENV_FILE: envFile, CATALOG_ENV: Object.entries(urls).map(([k, v]) => `${k}=${v}`).join('\n') },
      ready: { port: true, timeout: '60s' },
      stopGrace: '10s',
    },
    cache: {
      command: 'redis-server',
      args: ['--port', '{port}', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'],
      ports: [cache],
      ready: { port: true },
    },
    prices: { command: node, args: [join(here, 'prices.ts')], ports: [prices], ready: { url: 'http://127.0.0.1:{port}/health' } },
  };
  const apis = n === 1 ? ['api'] : api.map((_, i) => `api-${i}`);
  apis.forEach((name, i) => {
    services[name] = {
      command: node,
      args: [join(here, 'service.ts')],
      ports: [api[i]],
      env: { CATALOG_MODE: mode, ENV_FILE: envFile, ...urls, ...opts.env },
      ready: { url: 'http://127.0.0.1:{port}/health', timeout: '30s' },
    };
  });
  if (front !== undefined) {
    services.front = { command: node, args: [join(here, 'front.ts')], ports: [front], env: { UPSTREAMS: api.map((p) => `http://127.0.0.1:${p}`).join(',') }, ready: { port: true } };
  }
  return {
    target: `http://127.0.0.1:${front ?? api[0]}`,
    services,
    proxies: { prices: { listen: `127.0.0.1:${pricesProxy}`, upstream: `127.0.0.1:${prices}`, mode: 'http' } },
    envFile,
    pgdata,
    ports: { db, cache, prices, pricesProxy, api, front },
    apis,
    psql: (...sql) => `psql -X -q -h 127.0.0.1 -p ${db} -U postgres -v ON_ERROR_STOP=1 ${sql.map((s) => `-c ${q(s)}`).join(' ')}`,
  };
}
