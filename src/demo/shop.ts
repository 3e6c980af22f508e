/**
 * The demo's shop: `GET /products` from memory, `POST /checkout` calling the
 * payment provider. It runs the way a thread-per-request server does (Tomcat's
 * maxThreads, gunicorn's workers × threads, PHP-FPM's max_children): a request
 * holds one of SHOP_WORKERS workers from the moment it is taken until its
 * response is written, and requests that find every worker busy wait in
 * arrival order. Workers are what a slow dependency steals.
 *
 * SHOP_MODE=naive — the payment call has no timeout and goes through one
 * shared pool of PAYMENT_CONNECTIONS keep-alive connections. When payment
 * slows down, calls queue for a connection, checkouts hold their workers
 * for as long as that takes, the workers run out, and `GET /products` —
 * which never touches payment — waits behind them: the whole shop is down.
 *
 * SHOP_MODE=resilient — the same pool, but each call has a deadline of
 * PAYMENT_TIMEOUT_MS, runs inside a circuit breaker (opossum) that also
 * bounds concurrent calls to the pool's size (a bulkhead), and falls back to
 * "202 payment queued" when the call fails, times out, or the breaker is open.
 * A checkout never holds a worker for longer than the deadline, so products
 * stay fast. A refused connection (a replica that is down) is retried on the
 * next replica: the request never reached it, so it cannot be charged twice.
 *
 *   PORT=4000 PAYMENT_URLS=http://127.0.0.1:4001 SHOP_MODE=naive node src/demo/shop.ts
 *
 * PAYMENT_URLS is a comma-separated list; calls go round-robin across it.
 * https URLs are verified against PAYMENT_CA_FILE, or FAULTLINE_CA_FILE (the
 * run's throwaway CA, which faultline gives its managed services).
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import CircuitBreaker from 'opossum';
import { Slots, envNumber, fail, serve } from './serve.ts';

const mode = process.env.SHOP_MODE ?? 'resilient';
if (mode !== 'naive' && mode !== 'resilient') fail(`SHOP_MODE: expected "naive" or "resilient", got ${JSON.stringify(mode)}`);
const urls = (process.env.PAYMENT_URLS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (urls.length === 0) fail('PAYMENT_URLS: expected the payment provider\'s URL, e.g. http://127.0.0.1:4001 (comma-separated for replicas)');
// A name under .test (reserved by RFC 6761, never resolvable on the internet) is resolved by the
// host's resolver: faultline's DNS responder when the shop runs as its own host (dns faults).
for (const u of urls) {
  if (!/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\]|[a-z0-9-]+(\.[a-z0-9-]+)*\.test):\d+\/?$/.test(u)) {
    fail(`PAYMENT_URLS: expected loopback URLs like http://127.0.0.1:4001 (or a name under .test), got ${JSON.stringify(u)}`);
  }
}
const caFile = process.env.PAYMENT_CA_FILE || process.env.FAULTLINE_CA_FILE;
let ca: string | undefined;
if (caFile && urls.some((u) => u.startsWith('https:'))) {
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (e) {
    fail(`PAYMENT_CA_FILE: cannot read ${caFile}: ${(e as Error).message}`);
  }
}

const workers = new Slots(envNumber('SHOP_WORKERS', 32));
const connections = envNumber('PAYMENT_CONNECTIONS', 16);
const timeoutMs = envNumber('PAYMENT_TIMEOUT_MS', 200);

// undici's own timeouts are off (0) in both modes: the naive shop has none on purpose,
// the resilient one sets a deadline per call.
// PAYMENT_MAX_REQUESTS: a connection is replaced after that many calls (0: never), so the shop
// opens new connections, and looks payment's name up again, as a long-running client does.
const maxRequests = envNumber('PAYMENT_MAX_REQUESTS', 0);
const pools = urls.map(
  (u) =>
    new Pool(u, { connections, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000, ...(maxRequests > 0 ? { maxRequestsPerClient: maxRequests } : {}), ...(ca ? { connect: { ca } } : {}) }),
);
let turn = 0;
const nextTurn = () => turn++ % pools.length;

const products = JSON.stringify(
  Array.from({ length: 24 }, (_, i) => ({ sku: i + 1, name: `product ${i + 1}`, price: 5 + ((i * 7) % 40), stock: 100 - ((i * 13) % 60) })),
);

/** One call to the provider; resolves when it paid, rejects on any failure (status, connection, deadline). */
async function pay(pool: Pool, body: string, signal?: AbortSignal): Promise<void> {
  const r = await pool.request({ path: '/pay', method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
  await r.body.dump();
  if (r.statusCode !== 200) throw new Error(`payment answered ${r.statusCode}`);
}

const refused = (e: unknown) => (e as { code?: string } | undefined)?.code === 'ECONNREFUSED';

async function payWithDeadline(body: string): Promise<'paid' | 'queued'> {
  const signal = AbortSignal.timeout(timeoutMs);
  const first = nextTurn();
  let last: unknown;
  // Each replica at most once, starting from this call's turn.
  for (let i = 0; i < pools.length; i++) {
    try {
      await pay(pools[(first + i) % pools.length], body, signal);
      return 'paid';
    } catch (e) {
      last = e;
      if (!refused(e) || signal.aborted) break;
    }
  }
  throw last;
}

// The deadline is the call's own AbortSignal (it also frees the connection); the breaker
// adds no timer of its own. Its 1 s rolling window lets it close soon after payment is back.
const breaker = new CircuitBreaker(payWithDeadline, {
  timeout: false,
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeout: 1000,
  rollingCountTimeout: 1000,
  rollingCountBuckets: 10,
  capacity: connections * pools.length,
  name: 'payment',
});
breaker.fallback(() => 'queued' as const);

// Why checkouts fell back, summed per second into the shop's log (.faultline/logs/shop-0.log under faultline).
const fallbacks = new Map<string, number>();
breaker.on('fallback', (_r: unknown, e: unknown) => {
  const why = breaker.opened ? 'breaker open' : e instanceof Error ? (e.name === 'TimeoutError' ? 'deadline' : ((e as { code?: string }).code ?? e.message)) : 'rejected';
  fallbacks.set(why, (fallbacks.get(why) ?? 0) + 1);
});
setInterval(() => {
  if (!fallbacks.size) return;
  process.stdout.write(`${new Date().toISOString()} checkouts queued: ${[...fallbacks].map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
  fallbacks.clear();
}, 1000).unref();

async function checkout(body: string): Promise<{ status: number; json: unknown }> {
  if (mode === 'resilient') {
    const r = await breaker.fire(body);
    return r === 'paid' ? { status: 200, json: { status: 'paid' } } : { status: 202, json: { status: 'payment queued' } };
  }
  try {
    await pay(pools[nextTurn()], body);
    return { status: 200, json: { status: 'paid' } };
  } catch (e) {
    return { status: 502, json: { status: 'payment failed', error: (e as Error).message } };
  }
}

function send(res: http.ServerResponse, status: number, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

const server = http.createServer(async (req, res) => {
  let release: (() => void) | undefined;
  let gone = false;
  res.once('close', () => {
    gone = true;
    release?.();
  });
  release = await workers.acquire();
  // The client hung up while it waited for a worker: nothing left to answer.
  if (gone) return release();
  if (req.method === 'GET' && req.url === '/products') {
    req.resume();
    return send(res, 200, products);
  }
  if (req.method === 'POST' && req.url === '/checkout') {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const r = await checkout(Buffer.concat(chunks).toString() || '{}');
      return send(res, r.status, JSON.stringify(r.json));
    } catch (e) {
      // The client went away mid-body, or something unexpected: answer if anyone is listening.
      return send(res, 500, JSON.stringify({ error: (e as Error).message }));
    }
  }
  req.resume();
  if (req.method === 'GET' && req.url === '/health') {
    return send(res, 200, JSON.stringify({ mode, workers: { size: workers.size, busy: workers.inUse, queued: workers.queued }, breaker: breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed' }));
  }
  send(res, 404, JSON.stringify({ error: 'not found' }));
});

serve(server, `shop (${mode})`);
