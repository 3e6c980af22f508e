/**
 * The catalog: the second demo system, on real dependencies — PostgreSQL as
 * its database and Redis as its cache, both Debian's own binaries started by
 * faultline as managed services (see system.ts).
 *
 *   GET  /items/:id    cache-aside: Redis first, PostgreSQL on a miss (then cached for 30 s)
 *   GET  /report       a heavy query (holds a pooled connection ~20 ms): what fills the pool
 *   POST /orders       an INSERT into orders: what a locked table or a full disk stops
 *   GET  /price/:id    the item's price from the pricing service (PRICES_URL), checked
 *   GET  /health       200 once the schema is in place
 *
 * Its settings come from ENV_FILE (a `.env`: DATABASE_URL, REDIS_URL,
 * PRICES_URL) — the file a `file` fault takes away.
 *
 * CATALOG_MODE=resilient (default): Redis calls have a deadline
 * (CACHE_TIMEOUT_MS, 250) and no queue, and after a failure the cache is
 * skipped for a second (reads go to the database: slower, no errors); a pooled
 * connection is waited for at most DB_ACQUIRE_MS (1000) and a statement runs at
 * most DB_STATEMENT_MS (1000): a locked table or an exhausted pool is a fast
 * 503, not a hang; writes have a pool of their own (a bulkhead), so INSERTs
 * stuck behind a lock never take the reads' connections; a missing `.env` falls back
 * to the same settings from the environment; a null or non-numeric price (or
 * no answer within PRICES_TIMEOUT_MS) from the pricing service falls back to
 * the list price in the database.
 *
 * CATALOG_MODE=naive: ioredis's defaults (commands queue while Redis is
 * away), no deadlines on the pool or statements, `.env` required to start, and
 * the pricing service's answer used as it comes.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { envNumber, fail, serve } from '../serve.ts';

const mode = process.env.CATALOG_MODE ?? 'resilient';
if (mode !== 'naive' && mode !== 'resilient') fail(`CATALOG_MODE: expected "naive" or "resilient", got ${JSON.stringify(mode)}`);
const resilient = mode === 'resilient';

/** Settings from ENV_FILE; a resilient catalog falls back to its environment when the file is gone. */
function settings(): Record<string, string> {
  const file = process.env.ENV_FILE;
  const out: Record<string, string> = {};
  if (file) {
    try {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
        if (m) out[m[1]] = m[2];
      }
    } catch (e) {
      if (!resilient) fail(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`);
      process.stderr.write(`catalog: ${file} unreadable (${(e as NodeJS.ErrnoException).code}); using the environment\n`);
    }
  }
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'PRICES_URL']) if (out[k] === undefined && (resilient || !file) && process.env[k]) out[k] = process.env[k]!;
  return out;
}

const conf = settings();
if (!conf.DATABASE_URL) fail('DATABASE_URL: expected postgres://user@127.0.0.1:port/db (in ENV_FILE or the environment)');
if (!conf.REDIS_URL) fail('REDIS_URL: expected redis://127.0.0.1:port (in ENV_FILE or the environment)');
for (const [k, v] of Object.entries(conf)) {
  if (/_URL$/.test(k) && !/^[a-z]+:\/\/([^@/]*@)?(127\.0\.0\.1|localhost|\[::1\]):\d+/.test(v)) fail(`${k}: expected a loopback URL, got ${JSON.stringify(v)}`);
}

const acquireMs = envNumber('DB_ACQUIRE_MS', 1000);
const statementMs = envNumber('DB_STATEMENT_MS', 1000);
const poolSize = envNumber('POOL_SIZE', 10);
const limits = resilient ? { connectionTimeoutMillis: acquireMs, statement_timeout: statementMs, query_timeout: statementMs + 200 } : {};
const pool = new pg.Pool({ connectionString: conf.DATABASE_URL, max: poolSize, ...limits });
// Resilient: writes get a pool of their own (a bulkhead), so INSERTs stuck behind a lock
// cannot take the connections reads need. Naive: one pool for everything.
const writes = resilient ? new pg.Pool({ connectionString: conf.DATABASE_URL, max: Math.max(1, Math.ceil(poolSize / 2)), ...limits }) : pool;
for (const p of new Set([pool, writes])) p.on('error', () => {}); // an idle client whose server went away; the next query says so

const redis = new Redis(conf.REDIS_URL, resilient ? { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: envNumber('CACHE_TIMEOUT_MS', 250), lazyConnect: true } : { lazyConnect: true });
redis.on('error', () => {}); // reconnects by itself; each command reports its own failure
redis.connect().catch(() => {});

/** Resilient: after a cache failure, skip the cache for a second instead of paying its deadline on every read. */
let cacheSkipUntil = 0;

async function cacheGet(key: string): Promise<string | null> {
  if (resilient && Date.now() < cacheSkipUntil) return null;
  try {
    return await redis.get(key);
  } catch (e) {
    if (!resilient) throw e;
    cacheSkipUntil = Date.now() + 1000;
    return null;
  }
}

function cacheSet(key: string, value: string): void {
  if (resilient && Date.now() < cacheSkipUntil) return;
  redis.set(key, value, 'EX', 30).catch(() => {
    cacheSkipUntil = Date.now() + 1000;
  });
}

async function init(): Promise<void> {
  const c = await pool.connect();
  try {
    // Replicas start together: one creates the schema, the others wait for it.
    await c.query('SELECT pg_advisory_lock(4215)');
    await c.query('CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text NOT NULL, price int NOT NULL, stock int NOT NULL)');
    await c.query('CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, item int NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    await c.query(`INSERT INTO items SELECT i, 'item ' || i, 100 + i % 900, 50 FROM generate_series(1, 1000) i ON CONFLICT DO NOTHING`);
    await c.query('SELECT pg_advisory_unlock(4215)');
  } finally {
    c.release();
  }
  // Open the pools' connections now (a minimum of idle connections, as most pools keep), so the
  // first requests do not each pay for a new PostgreSQL backend.
  await Promise.all([...new Set([pool, writes])].flatMap((p) => Array.from({ length: p.options.max ?? 10 }, () => p.query('SELECT 1'))));
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** A database or cache failure as the client sees it: 503 when resilient (it knows it is degraded), 500 otherwise. */
const failed = (res: http.ServerResponse, e: unknown) => json(res, resilient ? 503 : 500, { error: (e as Error).message });

async function item(id: number): Promise<{ row: Record<string, unknown> | undefined; source: string }> {
  const cached = await cacheGet(`item:${id}`);
  if (cached) return { row: JSON.parse(cached), source: 'cache' };
  const r = await pool.query('SELECT id, name, price, stock FROM items WHERE id = $1', [id]);
  if (r.rows[0]) cacheSet(`item:${id}`, JSON.stringify(r.rows[0]));
  return { row: r.rows[0], source: 'db' };
}

async function price(id: number): Promise<{ price: number; source: string }> {
  if (!conf.PRICES_URL) throw new Error('PRICES_URL is not set');
  if (!resilient) {
    const r = await fetch(`${conf.PRICES_URL}/prices/${id}`);
    const body = (await r.json()) as { price: number };
    return { price: body.price.valueOf() * 1, source: 'pricing' }; // throws on null
  }
  try {
    const r = await fetch(`${conf.PRICES_URL}/prices/${id}`, { signal: AbortSignal.timeout(envNumber('PRICES_TIMEOUT_MS', 300)) });
    const body = (await r.json()) as { price: unknown };
    if (r.ok && typeof body.price === 'number' && Number.isFinite(body.price)) return { price: body.price, source: 'pricing' };
  } catch {
    /* slow, down or not JSON: the list price below */
  }
  // A null, retyped or missing price: the list price from the database, said so in the answer.
  const { row } = await item(id);
  return { price: row!.price as number, source: 'list' };
}

/** The database may still be starting (or recovering after a kill): retry for up to 30 s. */
async function initWithRetry(): Promise<true> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await init();
      return true;
    } catch (e) {
      if (Date.now() > deadline) fail(`database: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
const ready = initWithRetry();

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://catalog');
  try {
    if (url.pathname === '/health') return json(res, (await ready) ? 200 : 503, { ok: true, mode });
    let m = /^\/items\/(\d+)$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const { row, source } = await item(Number(m[1]));
      return row ? json(res, 200, { ...row, source }) : json(res, 404, { error: 'no such item' });
    }
    m = /^\/price\/(\d+)$/.exec(url.pathname);
    if (m && req.method === 'GET') {
      const p = await price(Number(m[1]));
      return json(res, 200, { id: Number(m[1]), price: p.price.toFixed(0), source: p.source });
    }
    if (url.pathname === '/report' && req.method === 'GET') {
      const r = await pool.query('SELECT count(*)::int AS n, pg_sleep(0.02) FROM items WHERE stock > 0');
      return json(res, 200, { items: r.rows[0].n });
    }
    if (url.pathname === '/orders' && req.method === 'POST') {
      const r = await writes.query('INSERT INTO orders (item) VALUES ($1) RETURNING id', [1 + Math.floor(Math.random() * 1000)]);
      return json(res, 201, { order: r.rows[0].id });
    }
    json(res, 404, { error: 'not found' });
  } catch (e) {
    failed(res, e);
  }
});

serve(server, `catalog (${mode})`);
