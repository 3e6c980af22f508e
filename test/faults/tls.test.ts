/**
 * The `tls` fault kind on a real TLS proxy (loopback): each mode against a
 * real Node TLS client (node:tls / node:https) and against faultline's own
 * https load, checking what the client saw, the error kind the load
 * reported, and the handshakes the proxy counted; rotation mid-run; the undo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxies } from '../../src/proxy/schema.ts';
import type { Proxies } from '../../src/proxy/registry.ts';
import { TlsProxy } from '../../src/proxy/tls.ts';
import { faultKinds } from '../../src/faults/index.ts';
import type { Fault, FaultSpecBase } from '../../src/faults/types.ts';
import { readOpenEntries } from '../../src/faults/journal.ts';
import { tlsErrorKind } from '../../src/engine/tlsErrors.ts';
import { countingServer, type TestServer } from '../helpers/servers.ts';
import { runScenario } from '../helpers/run.ts';
import { testCtx } from '../fixtures/faultCtx.ts';
import type { StageResult } from '../../src/timeline.ts';

let upstream: TestServer;
let proxies: Proxies;
let proxy: TlsProxy;
let port: number;
let dir: string;
let caFile: string;

beforeAll(async () => {
  upstream = await countingServer(200, 'ok');
  proxies = await startProxies({ pay: { listen: '127.0.0.1:0', upstream: `127.0.0.1:${new URL(upstream.url).port}`, mode: 'tls' } });
  proxy = proxies.get('pay') as TlsProxy;
  port = Number(proxy.listen.split(':').pop());
  dir = mkdtempSync(join(tmpdir(), `fl-h14tls-${process.pid}-`));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, proxies.ca.cert);
}, 30_000);

afterAll(async () => {
  await proxies?.closeAll();
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One GET through the proxy with Node's https client trusting the run's CA: the body, or the error's code. */
function nodeGet(opts: https.RequestOptions = {}): Promise<{ ok: boolean; code: string; message: string; cert?: string; reused?: boolean }> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', ca: proxies.ca.cert, agent: false, timeout: 3000, ...opts }, (res) => {
      const cert = (res.socket as tls.TLSSocket).getPeerX509Certificate()?.fingerprint256;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ ok: body === 'ok', code: 'OK', message: body, cert, reused: req.reusedSocket }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, code: e.code ?? e.name, message: e.message }));
  });
}

/** faultline's own https load through the proxy: 20 req/s for 1 s, one worker. */
async function load(engine: Record<string, unknown> = { ca: caFile }): Promise<StageResult> {
  const r = await runScenario({
    target: `https://127.0.0.1:${port}`,
    requests: [{ path: '/' }],
    load: { profile: 'constant', rate: 20, duration: '1s' },
    engine: { workers: 1, timeout: '1s', ...engine },
  });
  return r.stages[0];
}

function start(params: Record<string, unknown>, probability?: number): { fault: Fault; run: Promise<unknown> } {
  const spec: FaultSpecBase = { name: `tls ${params.mode}`, kind: 'tls', target: 'pay', probability, params: faultKinds.tls.params.parse(params) };
  const fault = faultKinds.tls.create(spec, testCtx({ proxies }));
  return { fault, run: fault.start() };
}

const errorKinds = (s: StageResult) => Object.fromEntries(Object.entries(s.errors).filter(([, n]) => n));

describe('tls proxy, outside any fault', () => {
  it('serves a certificate from the run CA for 127.0.0.1, localhost and ::1; the load trusts it with --ca, fails it without, ignores it with --insecure', async () => {
    const c = await nodeGet();
    expect(c).toMatchObject({ ok: true });
    const leaf = new X509Certificate(proxy.cert.cert);
    expect(leaf.checkIssued(new X509Certificate(proxies.ca.cert))).toBe(true);
    expect(leaf.subjectAltName).toMatch(/DNS:localhost.*IP Address:127\.0\.0\.1/);
    expect((await nodeGet({ host: 'localhost' })).ok).toBe(true);

    const trusted = await load();
    expect(trusted.requests).toBeGreaterThanOrEqual(18);
    expect(trusted.errorCount).toBe(0);
    const untrusted = await load({});
    expect(errorKinds(untrusted)).toEqual({ tls_untrusted: untrusted.requests });
    expect(untrusted.examples.tls_untrusted).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    const insecure = await load({ insecure: true });
    expect(insecure.errorCount).toBe(0);
    expect(insecure.requests).toBeGreaterThanOrEqual(18);
  }, 30_000);
});

describe('tls fault: certificates a client must refuse', () => {
  const cases = [
    { mode: 'expired', client: 'CERT_HAS_EXPIRED', kind: 'tls_expired', example: /certificate has expired/ },
    { mode: 'not-yet-valid', client: 'CERT_NOT_YET_VALID', kind: 'tls_expired', example: /not yet valid/ },
    { mode: 'wrong-host', client: 'ERR_TLS_CERT_ALTNAME_INVALID', kind: 'tls_hostname', example: /does not match certificate's altnames/ },
    { mode: 'unknown-ca', client: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', kind: 'tls_untrusted', example: /unable to verify the first certificate/ },
  ] as const;
  for (const c of cases) {
    it(`${c.mode}: the Node client refuses with ${c.client}; the load reports ${c.kind}; the proxy counts every handshake failed; undone at stop`, async () => {
      const { fault, run } = start({ mode: c.mode });
      await run;
      const client = await nodeGet();
      expect(client.code).toBe(c.client);
      const s = await load();
      await fault.stop();
      expect(errorKinds(s)).toEqual({ [c.kind]: s.requests });
      expect(s.requests).toBeGreaterThanOrEqual(18);
      expect(s.examples[c.kind]).toMatch(c.example);
      const d = fault.detail!() as Record<string, any>;
      // One handshake per request (a refused connection carries one request) and one for the Node client.
      expect(d.handshakes).toBe(s.requests + 1);
      expect(d.failed).toBe(d.handshakes);
      expect(d.completed).toBe(0);
      expect(d.failures).toEqual({ 'client hung up mid-handshake': d.handshakes });
      expect(d.effect).toMatch(new RegExp(`^${d.handshakes} handshakes; ${d.handshakes} failed`));
      expect(d.noEffect).toBeUndefined();
      // Undone: the valid certificate again, for new connections.
      expect((await nodeGet()).ok).toBe(true);
    }, 30_000);
  }

  it('a client that does not verify completes every handshake: the fault says it had no effect', async () => {
    const { fault, run } = start({ mode: 'expired' });
    await run;
    const s = await load({ insecure: true });
    await fault.stop();
    expect(s.errorCount).toBe(0);
    const d = fault.detail!() as Record<string, any>;
    expect(d.handshakes).toBe(d.completed);
    expect(d.handshakes).toBeGreaterThan(0);
    expect(d.noEffect).toMatch(/every handshake completed/);
  }, 30_000);

  it('no handshake while active: flagged "no effect"', async () => {
    const { fault, run } = start({ mode: 'wrong-host' });
    await run;
    await fault.stop();
    expect((fault.detail!() as Record<string, any>).noEffect).toMatch(/no handshake/);
    expect(fault.measured!()).toMatchObject({ noEffect: true, values: { handshakes: 0 } });
  });

  it('probability: the fault applies per connection', async () => {
    const { fault, run } = start({ mode: 'expired' }, 0.5);
    await run;
    const results = [];
    for (let i = 0; i < 40; i++) results.push(await nodeGet());
    await fault.stop();
    const refused = results.filter((r) => r.code === 'CERT_HAS_EXPIRED').length;
    const d = fault.detail!() as Record<string, any>;
    // Only the connections the roll picked are counted by the fault; the others got the valid certificate.
    expect(d.handshakes).toBe(refused);
    expect(refused).toBeGreaterThan(8);
    expect(refused).toBeLessThan(32);
    expect(results.filter((r) => r.ok).length).toBe(40 - refused);
  }, 30_000);
});

describe('tls fault: handshakes that go wrong', () => {
  it('reset: RST on the ClientHello; the Node client sees ECONNRESET, the load tls_handshake', async () => {
    const { fault, run } = start({ mode: 'reset' });
    await run;
    const client = await nodeGet();
    expect(client.code).toBe('ECONNRESET');
    const s = await load();
    await fault.stop();
    expect(errorKinds(s)).toEqual({ tls_handshake: s.requests });
    const d = fault.detail!() as Record<string, any>;
    expect(d.handshakes).toBe(s.requests + 1);
    expect(d.failures).toEqual({ 'reset by the proxy': d.handshakes });
    expect((await nodeGet()).ok).toBe(true);
  }, 30_000);

  it('downgrade: only TLS 1.0–1.1 offered; a default client refuses (protocol version), one that allows TLS 1.1 gets it', async () => {
    const { fault, run } = start({ mode: 'downgrade' });
    await run;
    const client = await nodeGet();
    expect(client.code).toBe('EPROTO');
    expect(client.message).toMatch(/alert protocol version/);
    const s = await load();
    const old = await new Promise<string>((resolve) => {
      const c = tls.connect({ host: '127.0.0.1', port, ca: proxies.ca.cert, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
        resolve(c.getProtocol() ?? '?');
        c.end();
      });
      c.on('error', (e) => resolve(`error ${e.message}`));
    });
    await fault.stop();
    expect(errorKinds(s)).toEqual({ tls_handshake: s.requests });
    expect(s.examples.tls_handshake).toMatch(/protocol version/);
    expect(old).toBe('TLSv1.1');
    const d = fault.detail!() as Record<string, any>;
    expect(d.handshakes).toBe(s.requests + 2);
    expect(d.failures).toEqual({ 'no protocol version in common': s.requests + 1 });
    expect(d.versions).toEqual({ 'TLSv1.1': 1 });
    expect((await nodeGet()).ok).toBe(true);
  }, 30_000);

  it('stall: the ClientHello is never answered; a client that gives up is counted, one still waiting completes when the fault ends; the load reports the stall', async () => {
    const { fault, run } = start({ mode: 'stall' });
    await run;
    const gaveUp = await nodeGet({ timeout: 300 });
    expect(gaveUp.code).toBe('CLIENT_TIMEOUT');
    const waiting = nodeGet({ timeout: 5000 });
    const s = await load({ ca: caFile, timeout: '500ms' });
    const t0 = performance.now();
    await fault.stop();
    const late = await waiting;
    expect(late, JSON.stringify(fault.detail!())).toMatchObject({ ok: true });
    // Every request of the load waited out its timeout in a handshake that never finished.
    expect(s.errorCount).toBe(s.requests);
    expect((s.errors.tls_handshake ?? 0) + (s.errors.timeout ?? 0)).toBe(s.requests);
    expect(s.errors.tls_handshake).toBeGreaterThan(0);
    expect(s.latency.min).toBeGreaterThanOrEqual(490);
    const d = fault.detail!() as Record<string, any>;
    expect(d.failures['client gave up while the handshake stalled']).toBeGreaterThanOrEqual(s.errors.tls_handshake! + 1);
    expect(d.released).toBeGreaterThanOrEqual(1);
    expect(d.longestStallMs).toBeGreaterThanOrEqual(1000);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(d.noEffect).toBeUndefined();
  }, 30_000);
});

describe('tls fault: rotation mid-run', () => {
  it('new connections get a new certificate (new key, same CA) and still verify; a connection opened before keeps its own; stop rotates back', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await nodeGet({ agent });
      expect(before).toMatchObject({ ok: true });
      const { fault, run } = start({ mode: 'rotate', existing: 'keep' });
      await run;
      const kept = await nodeGet({ agent });
      const fresh = await nodeGet();
      const s = await load();
      await fault.stop();
      const after = await nodeGet();
      expect(kept.ok && fresh.ok && after.ok).toBe(true);
      // The kept connection carried on (Node shows no peer certificate on a reused socket; it made no new handshake).
      expect(kept.reused).toBe(true);
      expect(fresh.reused).toBe(false);
      expect(fresh.cert).not.toBe(before.cert);
      expect(after.cert).toBe(before.cert);
      expect(s.errorCount).toBe(0);
      const d = fault.detail!() as Record<string, any>;
      // The kept connection made no handshake; the fresh one and the load's did.
      expect(d.completed).toBeGreaterThanOrEqual(2);
      expect(d.failed).toBe(0);
      expect(d.noEffect).toBeUndefined();
    } finally {
      agent.destroy();
    }
  }, 30_000);
});

describe('tls fault: connections open at its start', () => {
  it('are closed by default (clients must handshake again and meet the fault); existing: keep leaves them be', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await nodeGet({ agent })).toMatchObject({ ok: true, reused: false });
      let f = start({ mode: 'expired', existing: 'keep' });
      await f.run;
      expect(await nodeGet({ agent })).toMatchObject({ ok: true, reused: true });
      await f.fault.stop();
      f = start({ mode: 'expired' });
      await f.run;
      // The proxy closed the kept connection: the agent notices and opens a new one, which meets the expired certificate.
      await new Promise((r) => setTimeout(r, 100));
      expect((await nodeGet({ agent })).code).toBe('CERT_HAS_EXPIRED');
      await f.fault.stop();
      expect((f.fault.detail!() as Record<string, any>).failed).toBe(1);
    } finally {
      agent.destroy();
    }
  }, 30_000);
});

describe('tls errors by kind (pure)', () => {
  it('classifies Node and undici error codes; non-TLS errors are left to the transport', () => {
    const e = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(tlsErrorKind(e('CERT_HAS_EXPIRED'))).toBe('tls_expired');
    expect(tlsErrorKind(e('CERT_NOT_YET_VALID'))).toBe('tls_expired');
    expect(tlsErrorKind(e('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('tls_hostname');
    expect(tlsErrorKind(e('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('tls_untrusted');
    expect(tlsErrorKind(e('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe('tls_untrusted');
    expect(tlsErrorKind(e('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('tls_handshake');
    expect(tlsErrorKind(e('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'))).toBe('tls_handshake');
    expect(tlsErrorKind(Object.assign(new Error('fetch failed'), { cause: e('CERT_HAS_EXPIRED') }))).toBe('tls_expired');
    expect(tlsErrorKind(e('ECONNREFUSED'))).toBeUndefined();
    expect(tlsErrorKind(e('ECONNRESET', 'read ECONNRESET'))).toBeUndefined();
  });
});

describe('a run with a tls proxy', () => {
  it('writes the run CA for the system under test, trusts it for its own load, reports the fault effect, and leaves nothing on disk or in the journal', async () => {
    const state = join(dir, 'state');
    // An upstream that closes every connection: each request is a new handshake, so the fault always meets some.
    const closing = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { connection: 'close', 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    const closingPort = (closing.address() as { port: number }).port;
    const listen = await (async () => {
      const { freePorts } = await import('../../src/demo/ports.ts');
      return (await freePorts(1))[0];
    })();
    const r = await runScenario(
      {
        target: `https://127.0.0.1:${listen}`,
        requests: [{ path: '/' }],
        load: { profile: 'constant', rate: 30, duration: '3s' },
        // Every request is a new handshake here: a generous timeout, so a busy machine measures TLS, not CPU contention.
        engine: { workers: 1, timeout: '5s' },
        window: '500ms',
        proxies: { pay: { listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${closingPort}`, mode: 'tls' } },
        faults: [{ name: 'expired cert', kind: 'tls', target: 'pay', mode: 'expired', existing: 'keep', at: '1s', duration: '1s' }],
      },
      { stateDir: state },
    ).finally(() => closing.close());
    const s = r.stages[0];
    expect(errorKinds(s), JSON.stringify({ outcome: r.outcome, examples: s.examples, events: r.timeline.events })).toEqual({ tls_expired: s.errors.tls_expired });
    // Connections made before the fault keep their certificate: only new handshakes fail, so the count is the load's own.
    expect(s.errors.tls_expired).toBeGreaterThan(15);
    expect(s.errors.tls_expired).toBeLessThan(s.requests - 20);
    const start = r.timeline.events.find((e) => e.type === 'fault-start')!.t;
    const stop = r.timeline.events.find((e) => e.type === 'fault-stop')!.t;
    for (const w of r.timeline.windows) if (w.end < start || w.start > stop + 500) expect(w.overall.byKind.tls_expired ?? 0, `window ${w.start - start} ms from the fault's start`).toBe(0);
    const f = r.faults!.find((x) => x.fault === 'expired cert')!;
    expect(f.detail?.handshakes, JSON.stringify({ detail: f.detail, errors: s.errors, requests: s.requests, w: r.timeline.windows.map((w) => [w.start - start, w.overall.requests, w.overall.byKind]) })).toBe(s.errors.tls_expired);
    expect(f.detail?.failed).toBe(s.errors.tls_expired);
    expect(f.effect).toMatchObject({ noEffect: false, values: { handshakes: s.errors.tls_expired, failed: s.errors.tls_expired, 'failed: client hung up mid-handshake': s.errors.tls_expired } });
    expect(f.effect!.summary).toMatch(new RegExp(`^${s.errors.tls_expired} handshakes; ${s.errors.tls_expired} failed \\(${s.errors.tls_expired} client hung up mid-handshake\\)$`));
    expect(existsSync(join(state, 'tls', `ca-${process.pid}.pem`))).toBe(false);
    expect(await readOpenEntries(join(state, 'journal.jsonl'))).toEqual([]);
    const journal = readFileSync(join(state, 'journal.jsonl'), 'utf8');
    expect(journal).toMatch(/"argv":\["rm","-f",".*ca-\d+\.pem"\]/);
  }, 30_000);
});
