/**
 * link-bandwidth on a real host link: a download from the host through a
 * 200 KB/s outbound cap takes as long as the cap says, the qdisc's counters
 * agree, and the qdisc is gone after (the link at full speed again).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { faultKinds } from '../../src/faults/index.ts';
import { freePorts } from '../../src/demo/ports.ts';
import { announceSkip, startHosted, leftovers, openEntries, track, type Hosted } from '../fixtures/hosts.ts';

const skip = announceSkip('test/faults/link-bandwidth.test.ts');
let hosted: Hosted | undefined;
afterEach(async () => {
  await hosted?.close();
  if (hosted) expect(leftovers(hosted.network.id)).toEqual([]);
  hosted = undefined;
});

/** Answers every connection with SIZE bytes and closes. */
const BLOB = `const b=Buffer.alloc(Number(process.env.SIZE),120);require('node:net').createServer(s=>{s.on('error',()=>{});s.end(b)}).listen(Number(process.env.PORT),'127.0.0.1');process.on('SIGTERM',()=>process.exit(0));`;
const SIZE = 400_000;

/** Downloads the blob from 127.0.0.1:port; resolves to [bytes, seconds]. */
async function download(port: number): Promise<[number, number]> {
  const { connect } = await import('node:net');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let n = 0;
    const s = connect(port, '127.0.0.1');
    s.on('data', (d) => (n += d.length));
    s.on('end', () => resolve([n, (performance.now() - t0) / 1000]));
    s.on('error', reject);
  });
}

describe.skipIf(skip)('link-bandwidth', () => {
  it('a 200 KB/s cap on what the host sends: 400 KB take about 2 s, measured by the qdisc too; gone after', async () => {
    const [port] = await freePorts(1);
    hosted = await startHosted({ blob: { command: process.execPath, args: ['-e', BLOB], env: { SIZE }, ports: [port], host: 'own' } });
    const [host] = hosted.network.of('blob');
    const [, freeSecs] = await download(port);
    expect(freeSecs).toBeLessThan(1); // uncapped first

    const fault = track(hosted, faultKinds['link-bandwidth'].create({ name: 'thin link', kind: 'link-bandwidth', target: 'blob', params: { rate: '200KB', direction: 'outbound' } }, hosted.ctx));
    await fault.start();
    expect(execFileSync('tc', ['-n', host.ns, 'qdisc', 'show', 'dev', host.nsIf], { encoding: 'utf8' })).toMatch(/tbf .*rate 1600Kbit/);
    const [bytes, secs] = await download(port);
    await fault.stop();
    expect(bytes).toBe(SIZE);
    // 400 KB at 200 KB/s, less the first bucket of 4 KB: 1.98 s; a loaded machine only adds to it.
    expect(secs).toBeGreaterThan(1.8);
    expect(secs).toBeLessThan(3.5);
    const m = fault.measured!()!;
    expect(m.noEffect).toBe(false);
    expect(m.values.outboundHeldBack).toBeGreaterThan(0);
    // The qdisc sent the blob plus TCP/IP headers: between 400 KB and 10% more.
    const d = fault.detail!() as { outbound: { bytes: number; bytesPerSecond: number } };
    expect(d.outbound.bytes).toBeGreaterThanOrEqual(SIZE);
    expect(d.outbound.bytes).toBeLessThan(SIZE * 1.1);
    // Over the fault (download plus the moments around it) the rate stays at or under the cap.
    expect(d.outbound.bytesPerSecond).toBeLessThanOrEqual(200_000 * 1.05);
    expect(d.outbound.bytesPerSecond).toBeGreaterThan(200_000 * 0.6);
    expect(m.summary).toMatch(/^200\.0 KB\/s cap: outbound \d+\.\d KB\/s/);

    expect(execFileSync('tc', ['-n', host.ns, 'qdisc', 'show', 'dev', host.nsIf], { encoding: 'utf8' })).not.toMatch(/tbf/);
    expect((await openEntries(hosted)).filter((e) => e.fault === 'thin link')).toEqual([]);
    expect((await download(port))[1]).toBeLessThan(1);
  }, 40_000);

  it('traffic under the cap is flagged no effect', async () => {
    const [port] = await freePorts(1);
    hosted = await startHosted({ blob: { command: process.execPath, args: ['-e', BLOB], env: { SIZE: 1000 }, ports: [port], host: 'own' } });
    const fault = track(hosted, faultKinds['link-bandwidth'].create({ name: 'wide link', kind: 'link-bandwidth', target: 'blob', params: { rate: '10MB' } }, hosted.ctx));
    await fault.start();
    await download(port);
    await fault.stop();
    expect(fault.measured!()!.noEffect).toBe(true);
  }, 30_000);
});
