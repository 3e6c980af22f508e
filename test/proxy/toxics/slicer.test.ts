import { afterEach, describe, expect, it } from 'vitest';
import { collect, connect, pattern, portOf, sourceServer, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

describe('slicer toxic', () => {
  let src: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await src?.close();
  });

  it('cuts data into slices of average_size ± size_variation with delay µs between them', async () => {
    const bytes = 400;
    src = await sourceServer(bytes);
    proxy = await tcpProxy(src.port);
    // 40 ± 10 byte slices, 10 ms apart: each slice arrives as its own read.
    await proxy.addToxic({ type: 'slicer', attributes: { average_size: 40, size_variation: 10, delay: 10_000 } });
    const t0 = performance.now();
    const r = await collect(await connect(portOf(proxy.listen)));
    expect(r.data.equals(pattern(0, bytes))).toBe(true);
    expect(Math.max(...r.chunks)).toBeLessThanOrEqual(50);
    // At most 50 bytes a slice: at least 8 slices, so at least 7 gaps of 10 ms.
    expect(r.chunks.length).toBeGreaterThanOrEqual(8);
    expect(r.endedAt - t0).toBeGreaterThanOrEqual(70);
  });

  it('accepts size_variation equal to (or above) average_size, as Toxiproxy does, and still delivers every byte', async () => {
    src = await sourceServer(50_000);
    proxy = await tcpProxy(src.port);
    await proxy.addToxic({ type: 'slicer', attributes: { average_size: 10, size_variation: 10 } });
    const s = await connect(portOf(proxy.listen));
    const out = await collect(s);
    expect(out.data.equals(pattern(0, 50_000))).toBe(true);
  });
});
