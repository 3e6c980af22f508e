/**
 * Where the time went: phase histograms per window and request name, measured
 * on real sockets — time to first byte and transfer against a server that
 * delays and streams, and connect time against a paused server whose accept
 * queue overflowed (each dropped SYN costs a 1 s retransmit).
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { runScenario } from '../helpers/run.ts';
import { mergeStats } from '../../src/metrics/merge.ts';
import { view, percentileMs } from '../../src/metrics/histogram.ts';
import type { Result } from '../../src/result.ts';
import type { Phase, Stats, Window } from '../../src/timeline.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** One phase's histogram over the whole run (overall, or one request name). */
function phase(r: Result, p: Phase, name?: string) {
  const all = mergeStats(r.timeline.windows.map((w: Window) => (name ? w.byName[name] : w.overall)).filter((s: Stats | undefined): s is Stats => s !== undefined));
  const enc = all.phases?.[p];
  expect(enc, `phase ${p}`).toBeDefined();
  return view(enc!);
}

describe('phase histograms', () => {
  it('a server that delays its first byte 50 ms and streams the body for 20 ms: ttfb p50 ≈ 50 ms, transfer p50 ≈ 20 ms', async () => {
    const body = 'x'.repeat(4000);
    const srv = net.createServer((s) => {
      s.on('error', () => {});
      // Without it Nagle's algorithm holds the second write for the client's delayed ACK (40 ms): real, but not this test's point.
      s.setNoDelay(true);
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          setTimeout(() => {
            s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 1000)}`);
            setTimeout(() => s.write(body.slice(1000)), 20);
          }, 50);
        }
      });
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    closers.push(() => srv.close());
    const r = await runScenario({
      target: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`,
      requests: [{ name: 'slow', path: '/' }],
      load: { profile: 'constant', rate: 40, duration: '2s' },
      engine: { workers: 1, connections: 16, timeout: '2s' },
    });
    expect(r.stages[0].errorCount).toBe(0);
    const ttfb = phase(r, 'ttfb', 'slow');
    const transfer = phase(r, 'transfer', 'slow');
    expect(ttfb.totalCount).toBe(r.stages[0].requests);
    expect(Math.abs(percentileMs(ttfb, 50) - 50)).toBeLessThanOrEqual(5);
    expect(Math.abs(percentileMs(transfer, 50) - 20)).toBeLessThanOrEqual(5);
    // Connections are kept alive: connect is sampled once per new connection, not per request.
    const connect = phase(r, 'connect');
    expect(connect.totalCount).toBeGreaterThan(0);
    expect(connect.totalCount).toBeLessThanOrEqual(16);
    expect(percentileMs(connect, 50)).toBeLessThan(50);
  });

  it('a paused server with a small accept backlog: connect time shows the 1 s SYN retransmit', async () => {
    // A server in its own process (so it can be paused), listening with a backlog of 1.
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        `const net = require('node:net');
         const s = net.createServer((c) => { c.on('error', () => {}); c.on('data', () => c.write('HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')); });
         s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    closers.push(() => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    let pause: NodeJS.Timeout | undefined;
    let resume: NodeJS.Timeout | undefined;
    try {
      const r = await runScenario(
        {
        target: `http://127.0.0.1:${port}`,
        requests: [{ path: '/' }],
          // One connection per waiting request, opened lazily: during the pause each new one meets a full queue.
          load: { profile: 'constant', rate: 100, duration: '3s' },
        engine: { workers: 1, connections: 200, timeout: '5s' },
        },
        {
          // Paused from 0.5 s to 2 s into the load.
          onEvent: (e) => {
            if (e.type !== 'stage-start') return;
            pause = setTimeout(() => child.kill('SIGSTOP'), 500);
            resume = setTimeout(() => child.kill('SIGCONT'), 2000);
          },
        },
      );
      const connect = phase(r, 'connect');
      // The connections opened before the pause took well under a millisecond; dropped SYNs are retried after 1 s.
      expect(connect.minNonZeroValue / 1000).toBeLessThan(20);
      expect(connect.maxValue / 1000).toBeGreaterThanOrEqual(900);
      let retransmitted = 0;
      for (const w of r.timeline.windows) {
        const enc = w.overall.phases?.connect;
        if (enc) {
          const h = view(enc);
          retransmitted += h.totalCount - countBelow(h, 900_000);
        }
      }
      expect(retransmitted).toBeGreaterThan(5);
    } finally {
      clearTimeout(pause);
      clearTimeout(resume);
    }
  });
});

/** Values below `us` in a histogram (percentiles ascend: bisect on the percentile). */
function countBelow(h: ReturnType<typeof view>, us: number): number {
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (h.getValueAtPercentile(mid) < us) lo = mid;
    else hi = mid;
  }
  return Math.round((lo / 100) * h.totalCount);
}
