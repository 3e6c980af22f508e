import { afterEach, describe, expect, it } from 'vitest';
import { collect, connect, pattern, portOf, sourceServer, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

describe('slow_close toxic', () => {
  let src: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await src?.close();
  });

  it('delays the close by `delay` ms after the data', async () => {
    src = await sourceServer(100);
    proxy = await tcpProxy(src.port);
    await proxy.addToxic({ type: 'slow_close', attributes: { delay: 300 } });
    const s = await connect(portOf(proxy.listen));
    let dataAt = 0;
    s.once('data', () => (dataAt = performance.now()));
    const r = await collect(s);
    expect(r.data.equals(pattern(0, 100))).toBe(true);
    expect(r.endedAt - dataAt).toBeGreaterThanOrEqual(290);
    expect(r.endedAt - dataAt).toBeLessThan(300 + 150);
  });

  it('without it the close follows at once', async () => {
    src = await sourceServer(100);
    proxy = await tcpProxy(src.port);
    const s = await connect(portOf(proxy.listen));
    let dataAt = 0;
    s.once('data', () => (dataAt = performance.now()));
    const r = await collect(s);
    expect(r.endedAt - dataAt).toBeLessThan(100);
  });
});
