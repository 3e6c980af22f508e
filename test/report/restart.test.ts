/**
 * A restart fault on real processes: faultline kills its managed service at
 * 2 s and restarts it 1 s later. The correlation reports the measured
 * restart-to-ready time (from the fault's own detail) beside the time to
 * recovery the clients saw.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runScenario } from '../helpers/run.ts';
import { freePort } from './twoRoutes.ts';
import { prepare } from '../../src/report/index.ts';
import { renderReport } from '../../src/report/terminal.ts';
import { paint } from '../../src/report/format.ts';
import type { Result } from '../../src/result.ts';
import { schemaErrors } from './schema.ts';

const SERVICE = fileURLToPath(new URL('../fixtures/service-http.js', import.meta.url));
let result: Result;

beforeAll(async () => {
  const port = await freePort();
  result = prepare(
    await runScenario({
      name: 'api crash',
      target: `http://127.0.0.1:${port}`,
      requests: [{ name: 'api', path: '/' }],
      load: { profile: 'constant', rate: 100, duration: '7s' },
      baseline: false,
      hypothesis: ['errors < 1%'],
      services: { api: { command: process.execPath, args: [SERVICE], ports: [port] } },
      faults: [{ name: 'api crash', kind: 'kill', target: 'api', restart: '1s', at: '2s' }],
      engine: { workers: 1, timeout: '2s' },
    }),
  );
}, 60_000);

describe('a kill with restart', () => {
  it('hurts at once and is attributed to the fault', () => {
    const f = result.faults![0];
    expect(f).toMatchObject({ fault: 'api crash', kind: 'kill', held: false });
    expect(f.timeToImpactMs!).toBeLessThanOrEqual(result.timeline.tickMs);
    expect(result.breaches!.filter((b) => b.sustained).every((b) => b.faults.includes('api crash'))).toBe(true);
    expect(f.metrics.during!.errorRate).toBeGreaterThan(0.2);
  });

  it('reports the restart-to-ready time next to the clients’ time to recovery', () => {
    const f = result.faults![0];
    const ready = f.restart?.restartToReadyMs?.[0];
    expect(typeof ready, JSON.stringify(f.detail)).toBe('number');
    expect(ready!).toBeGreaterThan(0);
    expect(ready!).toBeLessThan(5000);
    expect(f.restart!.downMs![0]!).toBeGreaterThanOrEqual(1000);
    expect(f.recovery).toBe('recovered');
    expect(f.timeToRecoveryMs).toBeDefined();
    const row = renderReport(result, paint(undefined))
      .split('\n')
      .find((l) => l.startsWith('api crash (kill → api)'))!;
    expect(row).toMatch(/\d+\.\d\ds \(restart→ready \d+\.\d\ds\)/);
    expect(schemaErrors(JSON.parse(JSON.stringify(result)))).toEqual([]);
  });
});
