import { afterEach, describe, expect, it } from 'vitest';
import { collect, connect, echoServer, portOf, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

describe('reset_peer toxic', () => {
  let echo: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await echo?.close();
  });

  it('resets the connection after timeout ms: the client sees ECONNRESET', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    await proxy.addToxic({ type: 'reset_peer', attributes: { timeout: 150 } });
    const t0 = performance.now();
    const s = await connect(portOf(proxy.listen));
    const r = collect(s);
    s.write('hello');
    const out = await r;
    expect(out.error).toBe('ECONNRESET');
    expect(out.data.toString()).toBe('hello'); // data flows until the reset
    expect(out.endedAt - t0).toBeGreaterThanOrEqual(145);
    expect(out.endedAt - t0).toBeLessThan(150 + 100);
  });

  it('with timeout 0 resets at once, also connections open before the toxic', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    const before = await connect(portOf(proxy.listen));
    const r1 = collect(before);
    await proxy.addToxic({ type: 'reset_peer', attributes: { timeout: 0 } });
    expect((await r1).error).toBe('ECONNRESET');
    const r2 = await collect(await connect(portOf(proxy.listen)));
    expect(r2.error).toBe('ECONNRESET');
  });
});
