import { afterEach, describe, expect, it } from 'vitest';
import { collect, connect, pattern, portOf, sourceServer, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

describe('limit_data toxic', () => {
  let src: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await src?.close();
  });

  it('lets exactly `bytes` through, then closes the connection', async () => {
    src = await sourceServer(100_000);
    proxy = await tcpProxy(src.port);
    await proxy.addToxic({ type: 'limit_data', attributes: { bytes: 1234 } });
    const r = await collect(await connect(portOf(proxy.listen)));
    expect(r.data.equals(pattern(0, 1234))).toBe(true);
  });

  it('passes everything when the data is under the limit', async () => {
    src = await sourceServer(1000);
    proxy = await tcpProxy(src.port);
    await proxy.addToxic({ type: 'limit_data', attributes: { bytes: 5000 } });
    const r = await collect(await connect(portOf(proxy.listen)));
    expect(r.data.equals(pattern(0, 1000))).toBe(true);
  });
});
