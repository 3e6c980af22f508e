import { afterEach, describe, expect, it } from 'vitest';
import { collect, connect, echoServer, pattern, portOf, sleep, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

describe('timeout toxic', () => {
  let echo: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await echo?.close();
  });

  it('stops data and closes the connection after timeout ms', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    await proxy.addToxic({ type: 'timeout', attributes: { timeout: 200 } });
    const t0 = performance.now();
    const s = await connect(portOf(proxy.listen));
    const r = collect(s);
    s.write('lost');
    const out = await r;
    expect(out.data.length).toBe(0);
    expect(out.error).toBeUndefined(); // a close, not a reset
    expect(out.endedAt - t0).toBeGreaterThanOrEqual(195);
    expect(out.endedAt - t0).toBeLessThan(200 + 100);
  });

  it('with timeout 0 drops data and never closes by itself; removing it closes the connection (Toxiproxy\'s Cleanup)', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    await proxy.addToxic({ type: 'timeout', attributes: { timeout: 0 } });
    const s = await connect(portOf(proxy.listen));
    const r = collect(s);
    const sent = pattern(0, 200_000);
    for (let i = 0; i < sent.length; i += 10_000) s.write(sent.subarray(i, i + 10_000));
    await sleep(300);
    expect(s.destroyed).toBe(false);
    const t0 = performance.now();
    await proxy.removeToxic('timeout_downstream');
    const out = await r;
    // Nothing that was sent under the toxic arrives, and the close comes at the removal.
    expect(out.data.length).toBe(0);
    expect(out.error).toBeUndefined();
    expect(out.endedAt - t0).toBeLessThan(500);
  });

  it('updating it (not removing it) keeps the connection open', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    await proxy.addToxic({ type: 'timeout', attributes: { timeout: 0 } });
    const s = await connect(portOf(proxy.listen));
    await sleep(100);
    await proxy.updateToxic('timeout_downstream', { attributes: { timeout: 0 } });
    await sleep(200);
    expect(s.destroyed).toBe(false);
    s.destroy();
  });
});
