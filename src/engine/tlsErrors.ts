/**
 * TLS failures of faultline's own https requests, by kind: an expired (or
 * not yet valid) certificate, a certificate for another host, one nobody
 * here trusts, and a handshake that failed or never finished. A pure function
 * of the error, plus a connector wrapper that marks errors raised after the
 * TCP connection was up but before the TLS handshake finished (a stalled
 * handshake otherwise looks like a plain connect timeout).
 */
import type { Socket } from 'node:net';
import type { buildConnector } from 'undici';

export type TlsErrorKind = 'tls_expired' | 'tls_hostname' | 'tls_untrusted' | 'tls_handshake';

/** OpenSSL's verification codes, as Node reports them in `err.code`. */
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', 'IP_ADDRESS_MISMATCH']);
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'CERT_REVOKED',
  'CERT_CHAIN_TOO_LONG',
]);

/** Set on an error the connector saw after TCP connected and before TLS was established. */
export const DURING_HANDSHAKE = Symbol.for('faultline.tlsHandshake');

type Err = Error & { code?: string; cause?: unknown; [DURING_HANDSHAKE]?: boolean };

/** The TLS kind of a request's error, or undefined when it is not a TLS failure. */
export function tlsErrorKind(err: unknown): TlsErrorKind | undefined {
  for (let e = err as Err | undefined, depth = 0; e && typeof e === 'object' && depth < 4; e = e.cause as Err | undefined, depth++) {
    const code = e.code ?? '';
    if (EXPIRED.has(code)) return 'tls_expired';
    if (HOSTNAME.has(code)) return 'tls_hostname';
    if (UNTRUSTED.has(code)) return 'tls_untrusted';
    // OpenSSL's own errors (a protocol version refused, an alert from the server, garbage instead of a ServerHello).
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'tls_handshake';
    // Node passes some of them on as EPROTO, with OpenSSL's text ("tlsv1 alert protocol version").
    if (code === 'EPROTO' && /SSL routines|SSL alert/.test(e.message ?? '')) return 'tls_handshake';
    if (e[DURING_HANDSHAKE]) return 'tls_handshake';
    // Node's words for a connection that died before the handshake finished.
    if (/before secure TLS connection was established/.test(e.message ?? '')) return 'tls_handshake';
  }
  return undefined;
}

type Connector = ReturnType<typeof buildConnector>;

/**
 * Wraps undici's connector: an error on a TLS connection whose TCP connect had
 * succeeded (a handshake that stalled into the connect timeout, or was reset)
 * is marked, so `tlsErrorKind` calls it a handshake failure. Plain http is
 * passed through untouched.
 */
export function markHandshakeErrors(connect: Connector): Connector {
  return ((opts, callback) => {
    if (opts.protocol !== 'https:') return connect(opts, callback);
    let tcpUp = false;
    const socket = connect(opts, (err, sock) => {
      if (err && tcpUp && typeof err === 'object') {
        try {
          Object.defineProperty(err, DURING_HANDSHAKE, { value: true });
        } catch {
          /* a frozen error keeps its own kind */
        }
      }
      if (err) callback(err, null);
      else callback(null, sock!);
    }) as unknown as Socket | undefined;
    socket?.once?.('connect', () => (tcpUp = true));
    return socket;
  }) as Connector;
}

/** What `--ca` / `--insecure` turn into for undici's connector (tls.connect options). */
export function tlsTrustOptions(t: { ca?: string; insecure?: boolean } | undefined): { ca?: string; rejectUnauthorized?: boolean } {
  if (!t) return {};
  return { ...(t.ca !== undefined ? { ca: t.ca } : {}), ...(t.insecure ? { rejectUnauthorized: false } : {}) };
}
