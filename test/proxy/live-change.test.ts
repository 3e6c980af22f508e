import { afterEach, describe, expect, it } from 'vitest';
import { connect, echoServer, pattern, portOf, sleep, tcpProxy } from './helpers.ts';
import type { Closable } from './helpers.ts';
import type { TcpProxy } from '../../src/proxy/tcp.ts';

// Toxiproxy's old bugs: removing a toxic under load hung the API or dropped bytes
// in flight. Here toxics come and go in a tight loop while an ordered stream flows.
describe('adding and removing toxics on live connections', () => {
  let echo: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await echo?.close();
  });

  it('delivers every byte, in order, and never hangs', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    const total = 4 * 1024 * 1024;
    const sent = pattern(0, total);
    const s = await connect(portOf(proxy.listen));
    let got = 0;
    let firstBad = -1;
    const done = new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        for (let i = 0; i < d.length && firstBad < 0; i++) if (d[i] !== (got + i) % 251) firstBad = got + i;
        got += d.length;
        if (got >= total) resolve();
      });
    });
    // Writer: 64 KB at a time, respecting backpressure.
    const writer = (async () => {
      for (let off = 0; off < total; off += 65536) {
        if (!s.write(sent.subarray(off, off + 65536))) await new Promise((r) => s.once('drain', r));
      }
    })();
    let changes = 0;
    let finished = false;
    void done.then(() => (finished = true));
    const t0 = Date.now();
    while (!finished && Date.now() - t0 < 15_000) {
      const stream = changes % 2 === 0 ? 'downstream' : 'upstream';
      // Each API-level change must return promptly even with data in flight.
      const c0 = performance.now();
      await proxy.addToxic({ type: 'latency', stream, attributes: { latency: 5, jitter: 5 } });
      await proxy.addToxic({ type: 'slicer', stream, attributes: { average_size: 4096, size_variation: 1024, delay: 100 } });
      await sleep(1);
      await proxy.removeToxic(`latency_${stream}`);
      await proxy.removeToxic(`slicer_${stream}`);
      expect(performance.now() - c0).toBeLessThan(500);
      changes += 2;
    }
    await Promise.race([done, sleep(15_000)]);
    await writer;
    expect(firstBad).toBe(-1);
    expect(got).toBe(total);
    expect(changes).toBeGreaterThan(20);
    s.destroy();
  });

  it('removing a latency toxic that holds data releases it in order (no hang)', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    const s = await connect(portOf(proxy.listen));
    const total = 1024 * 1024;
    let got = 0;
    let firstBad = -1;
    const done = new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        for (let i = 0; i < d.length && firstBad < 0; i++) if (d[i] !== (got + i) % 251) firstBad = got + i;
        got += d.length;
        if (got >= total) resolve();
      });
    });
    const sent = pattern(0, total);
    let off = 0;
    for (let round = 0; off < total; round++) {
      // (A timeout toxic drops its data, as Toxiproxy's does: timeout.test.ts.) A long latency holds it.
      await proxy.addToxic({ type: 'latency', stream: round % 2 ? 'upstream' : 'downstream', attributes: { latency: 60_000 } });
      for (let k = 0; k < 4 && off < total; k++, off += 32768) s.write(sent.subarray(off, off + 32768));
      await sleep(2);
      await proxy.removeToxic(round % 2 ? 'latency_upstream' : 'latency_downstream');
    }
    await Promise.race([done, sleep(10_000)]);
    expect(firstBad).toBe(-1);
    expect(got).toBe(total);
    s.destroy();
  });
});
