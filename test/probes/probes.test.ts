import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpProbe } from '../../src/probes/http.ts';
import { commandProbe } from '../../src/probes/command.ts';
import { normalize } from '../../src/config/scenario.ts';
import type { ScenarioInput } from '../../src/config/schema.ts';
import { runScenario } from '../helpers/run.ts';
import { evaluateWindow } from '../../src/hypothesis/evaluate.ts';
import { countingServer, type TestServer } from '../helpers/servers.ts';

/** A health endpoint whose answer the test sets: status, JSON body and delay. */
async function healthServer(): Promise<{ url: string; set(s: { status?: number; body?: unknown; delayMs?: number }): void; failedAt?: number; close(): Promise<void> }> {
  let state: { status: number; body: unknown; delayMs: number } = { status: 200, body: { status: 'ok' }, delayMs: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    const s = state;
    setTimeout(() => {
      res.writeHead(s.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(s.body));
    }, s.delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/health`,
    set: (s) => (state = { ...state, ...s }),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe('probe kinds', () => {
  let h: Awaited<ReturnType<typeof healthServer>> | undefined;
  afterEach(async () => h?.close());

  it('http: status, JSON field and timeout, with the latency it took', async () => {
    h = await healthServer();
    const mk = (p: Record<string, unknown>, timeoutMs = 1000) => httpProbe.create('health', httpProbe.params.parse({ url: h!.url, ...p }), { timeoutMs, cwd: '.' });
    expect(await mk({}).poll()).toMatchObject({ ok: true, value: 200 });
    expect(await mk({ json: { path: 'status', equals: 'ok' } }).poll()).toMatchObject({ ok: true, value: 'ok' });
    h.set({ body: { status: 'degraded' } });
    expect(await mk({ json: { path: 'status', equals: 'ok' } }).poll()).toMatchObject({ ok: false, value: 'degraded', message: 'status is "degraded", expected "ok"' });
    h.set({ status: 503 });
    expect(await mk({}).poll()).toMatchObject({ ok: false, value: 503, message: 'status 503' });
    expect(await mk({ status: 503 }).poll()).toMatchObject({ ok: true });
    h.set({ status: 200, delayMs: 300 });
    const slow = await mk({}, 100).poll();
    expect(slow).toMatchObject({ ok: false, message: 'no answer within 100 ms' });
    expect(slow.latencyMs).toBeGreaterThanOrEqual(95);
    expect(slow.latencyMs).toBeLessThan(290);
    const timed = await mk({}).poll();
    expect(timed.ok).toBe(true);
    expect(timed.latencyMs).toBeGreaterThanOrEqual(295);
  });

  it('http: refuses a non-loopback URL at validation', () => {
    expect(httpProbe.params.safeParse({ url: 'http://203.0.113.9/health' }).success).toBe(false);
  });

  it('command: ok on exit 0; a failure keeps its exit code and last line', async () => {
    const ok = await commandProbe.create('a', { command: 'true' }, { timeoutMs: 2000, cwd: '.' }).poll();
    expect(ok).toMatchObject({ ok: true, value: 0 });
    const bad = await commandProbe.create('a', { command: 'echo "ALARM: db cpu" >&2; exit 3' }, { timeoutMs: 2000, cwd: '.' }).poll();
    expect(bad).toMatchObject({ ok: false, value: 3, message: 'exit 3: ALARM: db cpu' });
    const hung = await commandProbe.create('a', { command: 'sleep 5' }, { timeoutMs: 200, cwd: '.' }).poll();
    expect(hung).toMatchObject({ ok: false, message: 'no answer within 200 ms' });
  });
});

const base = (over: Partial<ScenarioInput> = {}): ScenarioInput => ({
  target: 'http://127.0.0.1:9',
  requests: [{ path: '/' }],
  load: { profile: 'constant', rate: 50, duration: '5s' },
  ...over,
});

describe('probes in the scenario', () => {
  it('are validated with their path; clauses must name a declared probe', () => {
    expect(() => normalize(base({ probes: { h: { kind: 'http', url: 'http://127.0.0.1:1/x', every: '500ms' } }, stop: ['probe h fails for 2s'], hypothesis: ['probe h', 'probe h latency < 200ms'] }))).not.toThrow();
    expect(() => normalize(base({ probes: { h: { kind: 'http' } } }))).toThrow(/probes\.h\.url/);
    expect(() => normalize(base({ probes: { h: { kind: 'ping' } } }))).toThrow(/probes\.h\.kind: unknown probe kind "ping"/);
    expect(() => normalize(base({ stop: ['probe nope fails'] }))).toThrow(/stop\[0\]: no probe is named "nope"/);
    expect(() => normalize(base({ probes: { h: { kind: 'command', command: 'true' } }, hypothesis: ['probe h fails'] }))).toThrow(/a hypothesis says what healthy is/);
  });
});

describe('probes in a run', () => {
  let server: TestServer | undefined;
  let h: Awaited<ReturnType<typeof healthServer>> | undefined;
  afterEach(async () => {
    await server?.close();
    await h?.close();
  });

  it('a probe-driven stop condition aborts within one window of the probe failing; the Timeline shows the probe', async () => {
    server = await countingServer();
    h = await healthServer();
    let alarmAt = 0;
    // The alarm goes off once two windows are in.
    const onWindow = (w: { index: number }) => {
      if (w.index !== 1) return;
      alarmAt = performance.timeOrigin + performance.now();
      h!.set({ status: 500, body: { alarm: 'ALARM' } });
    };
    const r = await runScenario(
      base({
        target: server.url,
        load: { profile: 'constant', rate: 50, duration: '8s' },
        probes: { alarm: { kind: 'http', url: h.url, every: '200ms' } },
        stop: ['probe alarm fails'],
      }),
      { onWindow },
    );
    expect(r.outcome.status).toBe('aborted');
    expect(r.outcome.reason).toMatch(/stop condition "probe alarm fails" met \(status 500\)/);
    const probeEvents = r.timeline.events.filter((e) => e.type === 'probe');
    expect(probeEvents.map((e) => (e as { ok: boolean }).ok)).toEqual([true, false]);
    const failedAt = probeEvents[1]!.t;
    const abortAt = r.timeline.events.find((e) => e.type === 'abort')!.t;
    // The probe saw it within its period; the run stopped within one window of that.
    expect(failedAt - alarmAt).toBeGreaterThanOrEqual(0);
    expect(failedAt - alarmAt).toBeLessThan(200 + 150);
    expect(abortAt - failedAt).toBeLessThan(1000);
    // Windows carry the probe's polls.
    expect(r.timeline.windows.filter((w) => w.probes?.alarm).length).toBeGreaterThanOrEqual(2);
  });

  it('a probe clause in the hypothesis fails the windows in which the probe fails', async () => {
    server = await countingServer();
    h = await healthServer();
    const input = base({
      target: server.url,
      baseline: false,
      load: { profile: 'constant', rate: 50, duration: '3s' },
      probes: { health: { kind: 'http', url: h.url, every: '250ms', json: { path: 'status', equals: 'ok' } } },
      hypothesis: ['probe health'],
    });
    // Degraded once the first window is in: the first window is healthy, the last is not.
    const r = await runScenario(input, { onWindow: (w) => void (w.index === 0 && h!.set({ body: { status: 'degraded' } })) });
    const clauses = normalize(input).hypothesis;
    const windows = r.timeline.windows.filter((w) => w.probes?.health);
    expect(windows.length).toBeGreaterThanOrEqual(3);
    expect(windows[0]!.probes!.health!.ok).toBe(true);
    expect(evaluateWindow(windows[0]!, clauses, 20).status).toBe('pass');
    expect(windows.at(-1)!.probes!.health).toMatchObject({ ok: false, value: 'degraded' });
    expect(evaluateWindow(windows.at(-1)!, clauses, 20).status).toBe('fail');
  });
});
