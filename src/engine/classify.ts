/**
 * What happened to a request, from the error a transport raised: one error kind
 * (src/result.ts). Both transports are classified here, so they name alike what
 * happened on the wire (test/engine/transports.test.ts runs one table through both).
 */
import type { ErrorKind } from '../timeline.ts';
import { CLOSED, MALFORMED } from './http1.ts';
import { tlsErrorKind } from './tlsErrors.ts';

export function classify(err: Error & { code?: string; cause?: { code?: string } }): ErrorKind {
  const tls = tlsErrorKind(err);
  if (tls) return tls;
  const code = err.code ?? err.cause?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect_refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connect_timeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    // The connection ended (FIN, or a close the server announced) before the response was complete.
    case CLOSED:
    case 'UND_ERR_CLOSED':
      return 'closed';
    case 'UND_ERR_SOCKET':
      // undici also closes the socket itself on a response it will not read ("bad response": an unexpected 100;
      // "bad upgrade": a 101 nobody asked for), with the same code as the server's close.
      return err.message === 'bad response' || err.message === 'bad upgrade' ? 'malformed' : 'closed';
    case MALFORMED:
    // undici's checks of what llhttp let through: a Content-Length that does not match the body it framed, a head too large.
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'malformed';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    default:
      // undici's parser errors carry llhttp's codes (HPE_INVALID_CONSTANT, HPE_UNEXPECTED_CONTENT_LENGTH, ...).
      return code.startsWith('HPE_') || err.name === 'HTTPParserError' ? 'malformed' : 'other';
  }
}
