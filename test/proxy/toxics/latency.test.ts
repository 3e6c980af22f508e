import { afterEach, describe, expect, it } from 'vitest';
import { connect, echoServer, median, portOf, roundTrip, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

// Tolerance: a toxic of L ms adds between L - 2 and L + 30 ms to a round trip on loopback
// (timer granularity plus a loaded 2-core CI box); seen: +0.5 to +3 ms.
const LOW = 2;
const HIGH = 30;

describe('latency toxic', () => {
  let echo: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await echo?.close();
  });

  async function rtts(n: number): Promise<number[]> {
    const s = await connect(portOf(proxy.listen));
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await roundTrip(s));
    s.destroy();
    return out;
  }

  it('adds its delay to each direction it is on, within tolerance', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    const base = median(await rtts(5));
    await proxy.addToxic({ type: 'latency', attributes: { latency: 100 } });
    const down = median(await rtts(5));
    expect(down - base).toBeGreaterThanOrEqual(100 - LOW);
    expect(down - base).toBeLessThanOrEqual(100 + HIGH);
    await proxy.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 50 } });
    const both = median(await rtts(5));
    expect(both - base).toBeGreaterThanOrEqual(150 - LOW);
    expect(both - base).toBeLessThanOrEqual(150 + HIGH);
    await proxy.removeToxic('latency_downstream');
    await proxy.removeToxic('latency_upstream');
    expect(median(await rtts(5)) - base).toBeLessThan(HIGH);
  });

  it('jitter spreads the delay over latency ± jitter', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    await proxy.addToxic({ type: 'latency', attributes: { latency: 60, jitter: 40 } });
    const xs = await rtts(20);
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(20 - LOW);
      expect(x).toBeLessThanOrEqual(100 + HIGH);
    }
    // 20 uniform draws over 80 ms: a spread under 20 ms has probability ~1e-9.
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(20);
  });

  it('keeps throughput: a queue of chunks is delayed once, not once per chunk', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    await proxy.addToxic({ type: 'latency', attributes: { latency: 100 } });
    const s = await connect(portOf(proxy.listen));
    // 50 writes 2 ms apart: serial per-chunk delays would take 5 s; arrival-based delays ~0.2 s.
    const t0 = performance.now();
    let got = 0;
    const all = new Promise<void>((resolve) => s.on('data', (d: Buffer) => (got += d.length) >= 50 * 100 && resolve()));
    for (let i = 0; i < 50; i++) {
      s.write(Buffer.alloc(100, i));
      await new Promise((r) => setTimeout(r, 2));
    }
    await all;
    expect(performance.now() - t0).toBeLessThan(1000);
    s.destroy();
  });
});
