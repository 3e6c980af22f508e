import { afterEach, describe, expect, it } from 'vitest';
import { collect, connect, echoServer, portOf, roundTrip, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

describe('down toxic', () => {
  let echo: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await echo?.close();
  });

  it('refuses new connections and closes open ones; removing it listens again on the same port', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    const port = portOf(proxy.listen);
    const open = await connect(port);
    const closed = collect(open);
    await proxy.addToxic({ type: 'down' });
    expect(proxy.enabled).toBe(false);
    await closed;
    expect(open.destroyed).toBe(true);
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.removeToxic('down_downstream');
    expect(proxy.enabled).toBe(true);
    expect(portOf(proxy.listen)).toBe(port);
    const s = await connect(port);
    expect(await roundTrip(s)).toBeLessThan(100);
    s.destroy();
  });
});
