/** Loopback ports for the demo system, chosen at start so the demo never collides with what is running. */
import net from 'node:net';
import { once } from 'node:events';

/** `n` distinct free ports on 127.0.0.1, chosen by the OS (all held at once, then released for the demo's servers). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Whether 127.0.0.1:port can be listened on right now. */
export async function portFree(port: number): Promise<boolean> {
  const s = net.createServer();
  try {
    s.listen(port, '127.0.0.1');
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((r) => s.close(r));
  }
}
