/**
 * The demo's payment provider: `POST /pay` takes one of PAYMENT_SLOTS
 * concurrent slots for PAYMENT_SERVICE_MS, so its capacity is
 * slots / service time (8 / 45 ms ≈ 178 payments/s by default). Beyond that,
 * payments wait in a FIFO queue and their latency grows without bound, as a
 * real provider's would.
 *
 *   PORT=4001 node src/demo/payment.ts
 */
import http from 'node:http';
import { Slots, envNumber, serve } from './serve.ts';

const slots = new Slots(envNumber('PAYMENT_SLOTS', 8));
const serviceMs = envNumber('PAYMENT_SERVICE_MS', 45);
let paid = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, paid, busy: slots.inUse, queued: slots.queued }));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/pay') {
    req.resume();
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  req.resume();
  req.once('end', async () => {
    const release = await slots.acquire();
    // Like most servers, work for a client that already hung up is dropped before it starts.
    if (res.destroyed) return release();
    setTimeout(() => {
      release();
      paid++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'paid', id: paid }));
    }, serviceMs);
  });
});

serve(server, 'payment');
