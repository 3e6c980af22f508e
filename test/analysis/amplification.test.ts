import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { amplification } from '../../src/analysis/amplification.ts';
import { renderReport } from '../../src/report/terminal.ts';
import { htmlReport } from '../../src/report/html.ts';
import { paint } from '../../src/report/format.ts';
import { runScenario } from '../helpers/run.ts';
import { countingServer, type TestServer } from '../helpers/servers.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * The system under test: each request calls its dependency (through the fault
 * proxy at depPort) and, on a failed call, tries again — `attempts` calls at most.
 */
async function retryingService(depPort: number, attempts: number): Promise<{ port: number; close(): Promise<void> }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const call = () =>
    new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: depPort, path: '/pay', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
    });
  const server = http.createServer(async (req, res) => {
    req.resume();
    let status = 0;
    for (let i = 0; i < attempts && status !== 200; i++) status = await call();
    res.writeHead(status === 200 ? 200 : 502);
    res.end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => (agent.destroy(), server.closeAllConnections(), server.close(() => r()))),
  };
}

describe('what the dependency saw: amplification', () => {
  let dep: TestServer | undefined;
  let svc: Awaited<ReturnType<typeof retryingService>> | undefined;
  afterEach(async () => {
    await svc?.close();
    await dep?.close();
  });

  it('a client that makes 3 attempts on failure shows ≈ 3× during an error fault and ≈ 1× around it', async () => {
    dep = await countingServer();
    const proxyPort = await freePort();
    svc = await retryingService(proxyPort, 3);
    const r = await runScenario({
      target: `http://127.0.0.1:${svc.port}`,
      requests: [{ path: '/checkout' }],
      load: { profile: 'constant', rate: 100, duration: '9s' },
      proxies: { payment: { listen: `127.0.0.1:${proxyPort}`, upstream: `127.0.0.1:${dep.port}`, mode: 'http' } },
      faults: [{ name: 'payment 503', kind: 'http-error', target: 'payment', at: '2500ms', duration: '3s' }],
    });
    // Every window says what reached the dependency, and the windows add up to what the proxy forwarded.
    expect(r.timeline.windows.every((w) => w.dependencies?.payment !== undefined)).toBe(true);
    const forwarded = r.timeline.windows.reduce((a, w) => a + (w.dependencies!.payment!.requests ?? 0), 0);
    const [a] = amplification(r.timeline);
    expect(a!.dependency).toBe('payment');
    expect(a!.unit).toBe('requests');
    expect(a!.overall.dependency).toBe(forwarded);
    const f = a!.byFault[0]!;
    expect(f.fault).toBe('payment 503');
    // 3 calls per request while every call fails; 1 call per request before and after. (The service's
    // calls can trail the load's window by a few ms on a busy machine, so a window may hold a little more.)
    expect(f.during.ratio!).toBeGreaterThan(2.6);
    expect(f.during.ratio!).toBeLessThan(3.3);
    // (A call made just after a window's end counts in the next window: a few percent at window edges.)
    expect(f.before.ratio!).toBeGreaterThan(0.85);
    expect(f.before.ratio!).toBeLessThan(1.15);
    expect(f.after.ratio!).toBeGreaterThan(0.85);
    expect(f.after.ratio!).toBeLessThan(1.15);
    expect(f.peak!.ratio).toBeGreaterThan(2.6);
    // Ground truth: the proxy answered the failed calls itself; the dependency saw exactly the forwarded ones.
    const passed = r.timeline.windows.reduce((a, w) => a + (w.dependencies!.payment!.forwarded ?? 0), 0);
    expect(passed).toBeLessThan(forwarded);
    expect(dep.count()).toBe(passed);
    // The result carries it, the fault table shows what the fault measured, the report names the storm.
    expect(r.dependencies).toEqual([a]);
    expect(r.faults![0]!.effect).toMatchObject({ noEffect: false });
    const text = renderReport(r, paint(undefined, true));
    expect(text).toMatch(/What the dependencies saw/);
    expect(text).toMatch(/payment 503: before [01]\.\d\d× · during [23]\.\d\d× · after [01]\.\d\d×/);
    const html = htmlReport(r);
    expect(html).toMatch(/<h2>What the dependencies saw<\/h2>/);
    expect(html).toMatch(/payment 503<\/td><td class="num">[01]\.\d\d×<\/td><td class="num">[23]\.\d\d×/);
    expect(text).toMatch(/Measured effect:\n  payment 503: hit \d+ requests/);
  });
});
