import { describe, it, expect, afterEach } from 'vitest';
import { closedPort, countingServer, fastServer, resetServer, silentServer, type TestServer } from '../helpers/servers.ts';
import { runScenario } from '../helpers/run.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const load = { profile: 'constant' as const, rate: 50, duration: '1s' };

describe('errors are classified by kind, each with a first example', () => {
  it('no server listening: connect_refused', async () => {
    const port = await closedPort();
    const r = await runScenario({ target: `http://127.0.0.1:${port}`, requests: [{ path: '/' }], load, engine: { workers: 1 } });
    const s = r.stages[0];
    expect(s.errors.connect_refused).toBe(s.requests);
    expect(s.requests).toBeGreaterThanOrEqual(45);
    expect(s.errorRate).toBe(1);
    expect(s.examples.connect_refused).toMatch(/ECONNREFUSED/);
  });

  it('a server that resets: reset', async () => {
    server = await resetServer();
    const r = await runScenario({ target: server.url, requests: [{ path: '/' }], load, engine: { workers: 1 } });
    const s = r.stages[0];
    expect(s.errors.reset).toBeGreaterThan(0);
    expect(s.errors.reset).toBe(s.errorCount);
    expect(s.errorCount).toBe(s.requests);
  });

  it('a server that never answers: timeout, with latency at least the timeout', async () => {
    server = await silentServer();
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 20, duration: '1s' },
      engine: { workers: 1, timeout: '300ms' },
    });
    const s = r.stages[0];
    expect(s.errors.timeout).toBe(s.requests);
    expect(s.requests).toBeGreaterThanOrEqual(18);
    expect(s.latency.min).toBeGreaterThanOrEqual(300);
  });

  it('a 503: http_5xx; a 404 is counted apart and is not an error unless asked', async () => {
    server = await countingServer(503, 'busy');
    let r = await runScenario({ target: server.url, requests: [{ path: '/' }], load, engine: { workers: 1 } });
    expect(r.stages[0].errors.http_5xx).toBe(r.stages[0].requests);
    expect(r.stages[0].examples.http_5xx).toMatch(/HTTP 503/);
    await server.close();
    server = await countingServer(404, 'nope');
    r = await runScenario({ target: server.url, requests: [{ path: '/' }], load, engine: { workers: 1 } });
    expect(r.stages[0].errors.http_4xx).toBe(r.stages[0].requests);
    expect(r.stages[0].errorCount).toBe(0);
    r = await runScenario({ target: server.url, requests: [{ path: '/' }], load, engine: { workers: 1, errors4xx: true } });
    expect(r.stages[0].errorCount).toBe(r.stages[0].requests);
  });

  it('an unexpected status and a body mismatch', async () => {
    server = await countingServer(200, 'hello');
    const r = await runScenario({
      target: server.url,
      requests: [
        { name: 'status', path: '/', expect: { status: 201 } },
        { name: 'body', path: '/', expect: { bodyIncludes: 'world' } },
      ],
      load,
      engine: { workers: 1 },
    });
    const st = r.stages[0].byName;
    expect(st.status.errorCount).toBe(st.status.requests);
    expect(st.body.errorCount).toBe(st.body.requests);
    expect(r.stages[0].errors.unexpected_status).toBe(st.status.requests);
    expect(r.stages[0].errors.mismatch).toBe(st.body.requests);
  });
});

describe('the generator is never mistaken for the system', () => {
  it('1,000,000 req/s from one worker is flagged as generator-limited, not reported as a normal stage', async () => {
    // A raw-TCP responder far cheaper than the generator's work per request.
    server = await fastServer();
    const r = await runScenario({
      target: server.url,
      requests: [{ path: '/' }],
      load: { profile: 'constant', rate: 1_000_000, duration: '2s' },
      // This clause fails (the backlog makes p99 seconds long): still no breaking point may be named.
      hypothesis: ['p99 < 1ms'],
      baseline: false,
      engine: { workers: 1 },
    });
    const s = r.stages[0];
    expect(s.generatorLimited).toBe(true);
    expect(s.generatorReason).toMatch(/generator/);
    expect(s.achievedRate).toBeLessThan(500_000);
    expect(r.breakingPoint).toBeNull();
    expect(r.generatorLimit).not.toBeNull();
    expect(r.outcome.reason).toMatch(/generator ran out/);
  });
});
