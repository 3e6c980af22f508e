import { afterEach, describe, expect, it } from 'vitest';
import { collect, connect, portOf, sourceServer, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

describe('bandwidth toxic', () => {
  let src: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await src?.close();
  });

  it('caps throughput at rate KB/s (±20%)', async () => {
    const bytes = 300_000;
    src = await sourceServer(bytes);
    proxy = await tcpProxy(src.port);
    await proxy.addToxic({ type: 'bandwidth', attributes: { rate: 300 } }); // 300 KB/s: 1 s for 300 KB
    const t0 = performance.now();
    const r = await collect(await connect(portOf(proxy.listen)));
    const secs = (r.endedAt - t0) / 1000;
    expect(r.data.length).toBe(bytes);
    const kbps = bytes / 1000 / secs;
    expect(kbps).toBeGreaterThan(300 * 0.8);
    expect(kbps).toBeLessThan(300 * 1.2);
  });

  it('leaves the other direction alone', async () => {
    const bytes = 2_000_000;
    src = await sourceServer(bytes);
    proxy = await tcpProxy(src.port);
    await proxy.addToxic({ type: 'bandwidth', stream: 'upstream', attributes: { rate: 10 } });
    const t0 = performance.now();
    const r = await collect(await connect(portOf(proxy.listen)));
    expect(r.data.length).toBe(bytes);
    // 2 MB at 10 KB/s would take 200 s.
    expect(r.endedAt - t0).toBeLessThan(2000);
  });
});
