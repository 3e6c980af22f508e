/**
 * The TLS proxy (`mode: tls`): terminates TLS from the system under test with
 * certificates of the run's throwaway CA, and forwards the plaintext to the
 * upstream through the same toxics as the TCP proxy (latency, bandwidth …).
 *
 * What it serves can be changed while it runs: a TLS fault applies a
 * behaviour (another certificate or protocol range, a stalled or reset
 * handshake) to the connections accepted from then on, and counts their
 * handshakes itself, so the fault reports what it did, not what it was set to.
 * Connections already open keep what they negotiated.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { SecureContext, SecureVersion } from 'node:tls';
import type { Server, Socket } from 'node:net';
import { TcpProxy } from './tcp.ts';
import type { ProxyOptions } from './base.ts';
import { ThrowawayCa, type CertPair } from './tls/ca.ts';

/** How the proxy answers the TLS handshakes of new connections. */
export type TlsBehaviour =
  /** Complete the handshake with this certificate (and protocol range). */
  | { type: 'serve'; cert: CertPair; minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string }
  /** Read the ClientHello and never answer, until the behaviour ends (then the handshake goes on). */
  | { type: 'stall' }
  /** Reset the connection (RST) when the ClientHello arrives. */
  | { type: 'reset' };

/** Handshakes the proxy saw for the connections accepted under one behaviour. */
export interface HandshakeCounts {
  /** Connections that reached the proxy (each one a handshake begun). */
  attempted: number;
  /** Handshakes that completed. */
  completed: number;
  /** Handshakes that failed, by how: "client hung up mid-handshake", "client alert: unknown ca" … */
  failed: number;
  failures: Record<string, number>;
  /** Protocol versions of the completed handshakes. */
  versions: Record<string, number>;
  /** Stall: the longest a held handshake waited, ms. */
  longestStallMs?: number;
  /** Stall: handshakes still held when the stall ended (they went on then). */
  released?: number;
  /** Reset: connections closed by the client before any ClientHello (nothing to reset). */
  unsent?: number;
}

/** A behaviour in force; ending it restores what was served before (idempotent). */
export interface TlsLease {
  readonly counts: HandshakeCounts;
  end(): void;
  /**
   * Resolves when every handshake begun under it has completed or failed (a handshake in
   * flight when the behaviour ended is still its own), or after `timeoutMs`.
   */
  settled(timeoutMs: number): Promise<void>;
}

interface Held {
  raw: Socket;
  chunks: Buffer[];
  since: number;
  onData: (b: Buffer) => void;
  onGone: () => void;
}

interface Setting {
  behaviour: TlsBehaviour;
  /** Fraction of new connections it applies to; the others get what is beneath it. */
  probability: number;
  context?: SecureContext;
  counts: HandshakeCounts;
  held: Set<Held>;
}

const newCounts = (): HandshakeCounts => ({ attempted: 0, completed: 0, failed: 0, failures: {}, versions: {} });

function fail(c: HandshakeCounts, how: string): void {
  c.failed++;
  c.failures[how] = (c.failures[how] ?? 0) + 1;
}

const HUNG_UP = 'client hung up mid-handshake';

/** How a handshake failed, from the server side's error (OpenSSL's alert names, in words). */
export function handshakeFailure(e: Error & { code?: string }): string {
  const code = e.code ?? '';
  const alert = /^ERR_SSL_(?:SSLV3|TLSV1)_ALERT_(.+)$/.exec(code);
  if (alert) return `client alert: ${alert[1].toLowerCase().replace(/_/g, ' ')}`;
  if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' || code === 'ERR_SSL_VERSION_TOO_LOW' || code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE') return 'no protocol version in common';
  // A Node client that rejects the certificate closes the connection without an alert.
  if (code === 'ECONNRESET' || code === 'EPIPE') return HUNG_UP;
  return code || e.message;
}

export interface TlsProxyOptions extends ProxyOptions {
  /** The run's CA, which signs what the proxy serves. */
  ca: ThrowawayCa;
}

export class TlsProxy extends TcpProxy {
  override readonly mode = 'tls' as const;
  readonly ca: ThrowawayCa;
  /** The certificate served outside faults: valid now for localhost, 127.0.0.1 and ::1, from the run's CA. */
  readonly cert: CertPair;
  private readonly base: Setting;
  /** Behaviours in force, the latest on top. */
  private stack: Setting[] = [];
  /** Connections between accept and the end of their handshake. */
  private readonly handshaking = new Set<Socket>();

  constructor(o: TlsProxyOptions) {
    super(o);
    this.ca = o.ca;
    this.cert = o.ca.issueValid();
    this.base = this.setting({ type: 'serve', cert: this.cert });
  }

  /** Handshakes of every connection accepted outside a TLS fault. */
  get baseCounts(): HandshakeCounts {
    return this.base.counts;
  }

  /**
   * Answers new connections this way (each with `probability`, rolled once per connection)
   * until the lease ends; its counts are this behaviour's alone.
   */
  apply(b: TlsBehaviour, probability = 1, o: { closeOpen?: boolean } = {}): TlsLease {
    const s = this.setting(b, probability);
    this.stack = [...this.stack, s];
    // As a server restarted with its new certificate does: clients must handshake again to go on.
    if (o.closeOpen) super.dropConnections();
    let ended = false;
    return {
      counts: s.counts,
      end: () => {
        if (ended) return;
        ended = true;
        this.stack = this.stack.filter((x) => x !== s);
        this.release(s);
      },
      settled: async (timeoutMs) => {
        const c = s.counts;
        const until = performance.now() + timeoutMs;
        // A reset connection that never sent its ClientHello settles by closing; this polls few times.
        while (c.completed + c.failed + (c.unsent ?? 0) < c.attempted && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
      },
    };
  }

  protected override createServer(): Server {
    return net.createServer({ allowHalfOpen: true, noDelay: true }, (raw) => this.accept(raw));
  }

  protected override dropConnections(): void {
    super.dropConnections();
    for (const s of [this.base, ...this.stack]) {
      for (const h of s.held) h.raw.destroy();
      s.held.clear();
    }
    for (const s of this.handshaking) s.destroy();
    this.handshaking.clear();
  }

  private setting(b: TlsBehaviour, probability = 1): Setting {
    const context =
      b.type === 'serve' ? tls.createSecureContext({ cert: b.cert.cert, key: b.cert.key, minVersion: b.minVersion, maxVersion: b.maxVersion, ciphers: b.ciphers }) : undefined;
    return { behaviour: b, probability, context, counts: newCounts(), held: new Set() };
  }

  /** What a new connection gets: the latest behaviour whose roll it draws, else the base certificate. */
  private pick(): Setting {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const s = this.stack[i];
      if (s.probability >= 1 || this.random() < s.probability) return s;
    }
    return this.base;
  }

  private accept(raw: Socket): void {
    const s = this.pick();
    s.counts.attempted++;
    raw.on('error', () => {});
    switch (s.behaviour.type) {
      case 'serve':
        return this.handshake(raw, s.context!, s.counts);
      case 'reset': {
        let done = false;
        raw.once('data', () => {
          done = true;
          fail(s.counts, 'reset by the proxy');
          raw.resetAndDestroy();
        });
        raw.once('close', () => {
          if (!done) s.counts.unsent = (s.counts.unsent ?? 0) + 1;
        });
        return;
      }
      case 'stall':
        return this.hold(raw, s);
    }
  }

  private handshake(raw: Socket, context: SecureContext, counts: HandshakeCounts): void {
    const t = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
    this.handshaking.add(t);
    let settled = false;
    const settle = (how?: string) => {
      if (settled) return;
      settled = true;
      this.handshaking.delete(t);
      if (how === undefined) return;
      fail(counts, how);
      t.destroy();
    };
    t.once('secure', () => {
      settle();
      counts.completed++;
      const v = t.getProtocol() ?? 'unknown';
      counts.versions[v] = (counts.versions[v] ?? 0) + 1;
      this.forward(t);
    });
    t.on('error', (e) => settle(handshakeFailure(e)));
    // The socket is half-open capable (for the toxics): a client that hangs up shows as an end, not a close.
    t.once('end', () => settle(HUNG_UP));
    t.once('close', () => settle(HUNG_UP));
  }

  /** Stall: the ClientHello is read and kept, nothing is answered; a client that gives up is counted. */
  private hold(raw: Socket, s: Setting): void {
    const h: Held = {
      raw,
      chunks: [],
      since: performance.now(),
      onData: (b) => h.chunks.push(b),
      onGone: () => {
        if (!s.held.delete(h)) return;
        this.stalled(s.counts, h);
        fail(s.counts, 'client gave up while the handshake stalled');
        raw.destroy();
      },
    };
    s.held.add(h);
    raw.on('data', h.onData);
    raw.once('end', h.onGone);
    raw.once('close', h.onGone);
  }

  private stalled(c: HandshakeCounts, h: Held): void {
    c.longestStallMs = Math.max(c.longestStallMs ?? 0, Math.round(performance.now() - h.since));
  }

  /** A stall ends: held handshakes go on with what is served now (the ClientHello they sent is given back). */
  private release(s: Setting): void {
    if (s.behaviour.type !== 'stall') return;
    s.counts.released = s.held.size;
    const now = this.stack.findLast((x) => x.behaviour.type === 'serve') ?? this.base;
    for (const h of [...s.held]) {
      s.held.delete(h);
      this.stalled(s.counts, h);
      h.raw.off('data', h.onData);
      h.raw.off('end', h.onGone);
      h.raw.off('close', h.onGone);
      h.raw.pause();
      if (h.chunks.length) h.raw.unshift(Buffer.concat(h.chunks));
      this.handshake(h.raw, now.context!, s.counts);
    }
  }
}
