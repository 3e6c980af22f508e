import { beforeAll, describe, expect, it } from 'vitest';
import { initHistograms } from '../../src/metrics/histogram.ts';
import { combineWindows } from '../../src/metrics/merge.ts';
import { windows, healthy } from './synthetic.ts';

beforeAll(async () => {
  await initHistograms();
});

describe('combining windows keeps what they sampled beside their requests', () => {
  it('dependency traffic adds up; probes are ok only when every poll was, with the first failure kept', () => {
    const [a, b, c] = windows([healthy(), healthy(), healthy()]);
    a!.dependencies = { pay: { connections: 2, requests: 10, forwarded: 10 }, db: { connections: 1 } };
    b!.dependencies = { pay: { connections: 0, requests: 30, forwarded: 5 } };
    a!.probes = { health: { ok: true, polls: 2, failed: 0, latencyMs: 5, value: 200 } };
    b!.probes = { health: { ok: false, polls: 2, failed: 1, latencyMs: 40, value: 503, message: 'status 503' } };
    c!.probes = { health: { ok: false, polls: 1, failed: 1, latencyMs: 9, value: 500, message: 'status 500' } };
    const w = combineWindows([a!, b!, c!]);
    expect(w.dependencies).toEqual({ pay: { connections: 2, requests: 40, forwarded: 15 }, db: { connections: 1 } });
    expect(w.probes).toEqual({ health: { ok: false, polls: 5, failed: 2, latencyMs: 40, value: 503, message: 'status 503' } });
    expect(w.overall.requests).toBe(a!.overall.requests * 3);
  });

  it('windows without them combine without them', () => {
    const w = combineWindows(windows([healthy(), healthy()]));
    expect(w.dependencies).toBeUndefined();
    expect(w.probes).toBeUndefined();
  });
});
