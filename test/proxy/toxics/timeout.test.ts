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

  it('with timeout 0 holds data until removed, then delivers all of it in order', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    await proxy.addToxic({ type: 'timeout', attributes: { timeout: 0 } });
    const s = await connect(portOf(proxy.listen));
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    const sent = pattern(0, 200_000);
    for (let i = 0; i < sent.length; i += 10_000) s.write(sent.subarray(i, i + 10_000));
    await sleep(300);
    expect(Buffer.concat(got).length).toBe(0);
    expect(s.destroyed).toBe(false);
    await proxy.removeToxic('timeout_downstream');
    const deadline = Date.now() + 3000;
    while (Buffer.concat(got).length < sent.length && Date.now() < deadline) await sleep(10);
    expect(Buffer.concat(got).equals(sent)).toBe(true);
    s.destroy();
  });
});
