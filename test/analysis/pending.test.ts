/**
 * A paused dependency answers nothing, so nothing completes: the stall must still
 * break the window in which it happens (requests still waiting count at their
 * age so far), not only the window in which the stalled requests finally finish.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { processServer, type TestServer } from '../helpers/servers.ts';
import { runScenario } from '../helpers/run.ts';
import type { FaultCorrelation } from '../../src/analysis/correlation.ts';

let server: (TestServer & { pid: number }) | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('requests still waiting count in verdicts', () => {
  it('a 2 s pause is impact within one window of its start, not when it ends', async () => {
    server = await processServer();
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 200, duration: '6s' },
      baseline: false,
      hypothesis: ['p99 < 100ms'],
      window: '500ms',
      minSamples: 10,
      engine: { workers: 1, timeout: '5s' },
      faults: [{ name: 'freeze', kind: 'pause', pid: server.pid, at: '2s', duration: '2s' }],
    });
    const f = (r.faults as FaultCorrelation[])[0];
    expect(f.fault).toBe('freeze');
    // Truth: the first window after the pause starts already has requests waiting > 100 ms.
    expect(f.timeToImpactMs, JSON.stringify(f)).toBeDefined();
    expect(f.timeToImpactMs!).toBeLessThanOrEqual(500);
    expect(f.held).toBe(false);
    // Windows fully inside the pause have (almost) no completions, yet they are judged, and fail.
    const faultStart = f.start;
    const inside = r.timeline.windows.filter((w) => w.start >= faultStart + 100 && w.end <= faultStart + 1900);
    expect(inside.length).toBeGreaterThanOrEqual(2);
    const verdicts = (r.hypothesis as { verdicts: { window: number; status: string }[] }).verdicts;
    for (const w of inside) {
      expect(w.overall.pending).toBeDefined();
      expect(verdicts.find((v) => v.window === w.index)!.status).toBe('fail');
    }
    expect(f.recovery).toBe('recovered');
  });
});
