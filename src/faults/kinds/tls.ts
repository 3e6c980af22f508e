/**
 * `tls`: what a TLS-mode proxy serves goes wrong for the connections made
 * while the fault is active (`probability`: per connection), and comes back
 * when it ends. The system under test is the TLS client; the proxy counts
 * every handshake itself, so the fault reports how many were attempted and
 * how each failed, and says "no effect" when there was nothing to fail.
 *
 * Modes: `expired` (validity ended yesterday), `not-yet-valid` (starts
 * tomorrow), `wrong-host` (a certificate for another name), `unknown-ca`
 * (signed by a CA nobody trusts), `stall` (the ClientHello is never answered
 * until the fault ends), `reset` (RST on the ClientHello), `downgrade` (only
 * TLS 1.0–`version` offered, 1.1 by default), `rotate` (a new certificate and
 * key from the run's CA, as a renewal would serve). Connections open when the
 * fault starts are closed (`existing: close`, the default) so that clients must
 * handshake again, or kept (`existing: keep`).
 */
import { z } from 'zod';
import { TlsProxy } from '../../proxy/tls.ts';
import type { HandshakeCounts, TlsBehaviour, TlsLease } from '../../proxy/tls.ts';
import { LOOPBACK_HOSTS, ThrowawayCa } from '../../proxy/tls/ca.ts';
import type { FaultKind, FaultSpecBase } from '../types.ts';

export const TLS_FAULT_MODES = ['expired', 'not-yet-valid', 'wrong-host', 'unknown-ca', 'stall', 'reset', 'downgrade', 'rotate'] as const;
export type TlsFaultMode = (typeof TLS_FAULT_MODES)[number];

const DAY = 86_400_000;

const params = z
  .strictObject({
    mode: z.enum(TLS_FAULT_MODES),
    /** downgrade: the highest protocol version offered (the lowest is TLSv1). */
    version: z.enum(['TLSv1', 'TLSv1.1', 'TLSv1.2']).optional(),
    /** wrong-host: the one name the certificate is for. */
    host: z.string().regex(/^[A-Za-z0-9.-]+$/, 'expected a DNS name').optional(),
    /**
     * Connections already open when the fault starts: `close` them (default), as a server
     * restarted with the new certificate would, so clients must handshake again; or `keep`
     * them (a graceful reload: only new connections see the fault).
     */
    existing: z.enum(['close', 'keep']).default('close'),
  })
  .superRefine((p, ctx) => {
    if (p.version !== undefined && p.mode !== 'downgrade') ctx.addIssue({ code: 'custom', path: ['version'], message: '`version` applies to mode: downgrade' });
    if (p.host !== undefined && p.mode !== 'wrong-host') ctx.addIssue({ code: 'custom', path: ['host'], message: '`host` applies to mode: wrong-host' });
  });

type Params = z.output<typeof params>;

/** What the proxy serves in each mode (certificates are made when the fault starts). */
function behaviour(p: Params, proxy: TlsProxy): TlsBehaviour {
  const now = Date.now();
  const key = proxy.cert.key; // signing is fast, a new key is not: only rotate and unknown-ca make one
  switch (p.mode) {
    case 'expired':
      return { type: 'serve', cert: proxy.ca.issue({ hosts: LOOPBACK_HOSTS, notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY), key }) };
    case 'not-yet-valid':
      return { type: 'serve', cert: proxy.ca.issue({ hosts: LOOPBACK_HOSTS, notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY), key }) };
    case 'wrong-host':
      return { type: 'serve', cert: proxy.ca.issue({ hosts: [p.host ?? 'wrong-host.faultline.invalid'], notBefore: new Date(now - DAY), notAfter: new Date(now + 7 * DAY), key }) };
    case 'unknown-ca':
      return { type: 'serve', cert: new ThrowawayCa('faultline untrusted CA').issueValid() };
    case 'rotate':
      return { type: 'serve', cert: proxy.ca.issueValid() };
    case 'downgrade':
      // OpenSSL 3 refuses TLS 1.0/1.1 below security level 0, even on the server side.
      return { type: 'serve', cert: proxy.cert, minVersion: 'TLSv1', maxVersion: p.version ?? 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
    case 'stall':
      return { type: 'stall' };
    case 'reset':
      return { type: 'reset' };
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The measured effect in words, and whether it is "no effect" (and why). */
export function describeEffect(mode: TlsFaultMode, c: HandshakeCounts): { effect: string; noEffect?: string } {
  const failures = Object.entries(c.failures)
    .sort((a, b) => b[1] - a[1])
    .map(([how, n]) => `${n} ${how}`)
    .join(', ');
  const versions = Object.entries(c.versions)
    .map(([v, n]) => `${n} ${v}`)
    .join(', ');
  const parts = [plural(c.attempted, 'handshake')];
  if (c.failed) parts.push(`${c.failed} failed (${failures})`);
  if (c.completed) parts.push(`${c.completed} completed${versions ? ` (${versions})` : ''}`);
  if (mode === 'stall' && c.longestStallMs !== undefined) parts.push(`held up to ${c.longestStallMs} ms${c.released ? `, ${c.released} went on when the stall ended` : ''}`);
  const effect = parts.join('; ');
  if (c.attempted === 0) return { effect, noEffect: 'no handshake reached the proxy while the fault was active' };
  // A rotation works when clients take the new certificate; a stall when it holds them.
  if (mode !== 'rotate' && mode !== 'stall' && c.failed === 0) return { effect, noEffect: 'every handshake completed: the clients accepted what was served' };
  return { effect };
}

export const tls: FaultKind = {
  name: 'tls',
  params,
  targets: 'proxy',
  proxyMode: 'tls',
  describe: 'TLS goes wrong on a tls proxy: expired, not-yet-valid, wrong-host, unknown-ca, stall, reset, downgrade, rotate; handshakes counted by the proxy',
  create(spec: FaultSpecBase, ctx) {
    const p = spec.params as Params;
    let lease: TlsLease | undefined;
    return {
      spec,
      async start() {
        const proxy = spec.target === undefined ? undefined : ctx.proxies.get(spec.target);
        if (!proxy) throw new Error(`fault "${spec.name}": no proxy named ${JSON.stringify(spec.target)} (declare it under proxies)`);
        if (!(proxy instanceof TlsProxy)) throw new Error(`fault "${spec.name}": kind tls needs a tls proxy; proxy "${proxy.name}" is mode ${proxy.mode}`);
        const b = behaviour(p, proxy);
        // apply() takes effect at once and hands back its undo: nothing happens between the two.
        lease = proxy.apply(b, spec.probability ?? 1, { closeOpen: p.existing === 'close' });
        ctx.log(`proxy ${proxy.name}: tls ${p.mode}`);
      },
      async stop() {
        if (!lease) return;
        lease.end();
        // Handshakes begun under the fault and still in flight are its own: wait (briefly) for their outcome.
        await lease.settled(2000);
      },
      detail() {
        if (!lease) return {};
        const c = lease.counts;
        return { mode: p.mode, handshakes: c.attempted, completed: c.completed, failed: c.failed, failures: { ...c.failures }, versions: { ...c.versions }, ...(c.longestStallMs !== undefined ? { longestStallMs: c.longestStallMs, released: c.released ?? 0 } : {}), ...describeEffect(p.mode, c) };
      },
      measured() {
        if (!lease) return undefined;
        const c = lease.counts;
        const { effect, noEffect } = describeEffect(p.mode, c);
        const values: Record<string, number> = { handshakes: c.attempted, completed: c.completed, failed: c.failed };
        for (const [how, n] of Object.entries(c.failures)) values[`failed: ${how}`] = n;
        for (const [v, n] of Object.entries(c.versions)) values[`completed: ${v}`] = n;
        if (c.longestStallMs !== undefined) values.longestStallMs = c.longestStallMs;
        return { summary: noEffect ? `${effect} — ${noEffect}` : effect, values, noEffect: noEffect !== undefined };
      },
    };
  },
};
