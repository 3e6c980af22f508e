import { afterEach, describe, expect, it } from 'vitest';
import { connect, echoServer, portOf, roundTrip, tcpProxy } from '../helpers.ts';
import type { Closable } from '../helpers.ts';
import type { TcpProxy } from '../../../src/proxy/tcp.ts';

// Toxicity is rolled once per connection, in the link, for every toxic type.
describe('toxicity', () => {
  let echo: Closable;
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
    await echo?.close();
  });

  // A connection counts as slowed when its round trip takes 100 ms or more (toxic: 150 ms;
  // a first connection on a busy 2-core box can take tens of ms without any toxic).
  async function slowConnections(n: number): Promise<number> {
    let slow = 0;
    for (let i = 0; i < n; i++) {
      const s = await connect(portOf(proxy.listen));
      if ((await roundTrip(s)) >= 100) slow++;
      s.destroy();
    }
    return slow;
  }

  it('0 never applies the toxic, 1 always does', async () => {
    echo = await echoServer();
    proxy = await tcpProxy(echo.port);
    await slowConnections(1); // warm-up
    await proxy.addToxic({ type: 'latency', toxicity: 0, attributes: { latency: 150 } });
    expect(await slowConnections(10)).toBe(0);
    await proxy.updateToxic('latency_downstream', { toxicity: 1 });
    expect(await slowConnections(10)).toBe(10);
  });

  it('p applies to a fraction p of connections (seeded source, exact count)', async () => {
    echo = await echoServer();
    // A fixed sequence of rolls: 0.1, 0.3, ..., so with p = 0.5 exactly half hit.
    const rolls = [0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6];
    let i = 0;
    proxy = await tcpProxy(echo.port, () => rolls[i++ % rolls.length]);
    await proxy.addToxic({ type: 'latency', toxicity: 0.5, attributes: { latency: 150 } });
    expect(await slowConnections(8)).toBe(4);
  });
});
