/**
 * Services as their own hosts, on real namespaces: the root namespace reaches
 * each at 127.0.0.1:<port>, a host reaches another host and a root-namespace
 * service at 127.0.0.1 too, a refused connection stays refused through the
 * NAT, a restarted replica keeps its host, and closing removes everything it
 * journalled (and clears the journal).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { freePorts } from '../../src/demo/ports.ts';
import { announceSkip, startHosted, leftovers, openEntries, get, inHost, GET, HTTP_SERVICE, type Hosted } from '../fixtures/hosts.ts';

const skip = announceSkip('test/hosts/network.test.ts');
let hosted: Hosted | undefined;
afterEach(async () => {
  await hosted?.close();
  hosted = undefined;
});

describe.skipIf(skip)('hosts', () => {
  it('reach each other and the root namespace at 127.0.0.1; refused stays refused; a restart keeps the host; close leaves nothing', async () => {
    const [pa, pb, pr, pnone] = await freePorts(4);
    hosted = await startHosted({
      a: { command: process.execPath, args: [HTTP_SERVICE], ports: [pa], host: 'own' },
      b: { command: process.execPath, args: [HTTP_SERVICE], ports: [pb], host: 'own' },
      root: { command: process.execPath, args: [HTTP_SERVICE], ports: [pr] },
    });
    const [a] = hosted.network.of('a');
    const [b] = hosted.network.of('b');
    expect(a.ns).not.toBe(b.ns);
    expect(a.address).toMatch(/^169\.254\.\d+\.\d+$/);
    // Each service listens on 127.0.0.1 inside its own namespace, and nowhere in the root one.
    expect(execFileSync('ss', ['-ltnH', `sport = :${pa}`], { encoding: 'utf8' }).trim()).toBe('');
    expect(execFileSync('ip', ['netns', 'exec', a.ns, 'ss', '-ltnH', `sport = :${pa}`], { encoding: 'utf8' })).toContain(`127.0.0.1:${pa}`);

    expect(await get(pa)).toBe('ok 200');
    expect(await get(pb)).toBe('ok 200');
    expect(await inHost(a.ns, GET(pb))).toBe('ok 200');
    expect(await inHost(b.ns, GET(pa))).toBe('ok 200');
    expect(await inHost(a.ns, GET(pr))).toBe('ok 200');
    expect(await inHost(a.ns, GET(pa))).toBe('ok 200'); // its own port stays local
    // Nothing listens: refused, from the root namespace and from a host, as without hosts.
    expect(await inHost(a.ns, GET(pnone))).toBe('error ECONNREFUSED');

    const pidBefore = hosted.services.get('a')!.pids()[0];
    await hosted.services.restart('a');
    expect(hosted.services.get('a')!.pids()[0]).not.toBe(pidBefore);
    expect(hosted.network.of('a')[0].ns).toBe(a.ns);
    expect(await get(pa)).toBe('ok 200');

    // Killed: the root namespace sees a refused connection, not a hang or a reset.
    process.kill(-hosted.services.get('b')!.pids()[0], 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(await get(pb)).toBe('error ECONNREFUSED');

    const id = hosted.network.id;
    expect(leftovers(id).length).toBeGreaterThan(0);
    await hosted.close();
    expect(leftovers(id)).toEqual([]);
    expect((await openEntries(hosted)).filter((e) => e.kind === 'host')).toEqual([]);
    hosted = undefined;
  }, 60_000);
});
