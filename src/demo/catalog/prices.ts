/**
 * The pricing service the catalog calls over HTTP (through faultline's HTTP
 * proxy, where a body-patch fault can null or retype `price`).
 *
 *   GET /prices/:id → { "id": 7, "price": 107, "currency": "EUR" }
 */
import http from 'node:http';
import { serve } from '../serve.ts';

const server = http.createServer((req, res) => {
  const m = /^\/prices\/(\d+)$/.exec(req.url ?? '');
  if (req.url === '/health') return res.end('ok');
  if (!m) {
    res.statusCode = 404;
    return res.end('{"error":"not found"}');
  }
  const id = Number(m[1]);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id, price: 100 + (id % 900), currency: 'EUR' }));
});
serve(server, 'prices');
