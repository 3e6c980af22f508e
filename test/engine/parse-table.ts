/**
 * The conformance table of HTTP/1.1 responses: raw bytes and what a client must
 * make of them. Read by test/engine/parse.test.ts (the pure parser, whole and
 * split at every byte) and test/engine/transports.test.ts (each response served
 * from a real socket to faultline's own client and to undici).
 *
 * Expectations follow RFC 9112 and, where the RFC leaves a choice, llhttp in its
 * default (strict) mode; `undici` notes the few cases where llhttp decides
 * otherwise, with why faultline differs.
 */

export type Outcome =
  | { ok: true; status: number; body: number }
  /** malformed: refused by the parser; closed: the connection ended first; timeout: still incomplete, the connection open; reset: an RST. */
  | { error: 'malformed' | 'closed' | 'timeout' | 'reset' };

export interface Case {
  name: string;
  /** The bytes the server sends (latin1). */
  raw: string;
  method?: 'GET' | 'HEAD';
  /** The server closes the connection (FIN) after sending; `reset`: it resets it (RST). */
  after?: 'close' | 'reset' | 'open';
  expect: Outcome;
  /** undici (llhttp) decides otherwise: its outcome, and why faultline differs. */
  undici?: { expect: Outcome; why: string };
}

const ok = (status: number, body = 0): Outcome => ({ ok: true, status, body });
const malformed: Outcome = { error: 'malformed' };
const closed: Outcome = { error: 'closed' };
const timeout: Outcome = { error: 'timeout' };
const reset: Outcome = { error: 'reset' };

/** Lines joined with CRLF, the head ended by an empty line, then the body. */
const res = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;
const chunked = (...parts: string[]) => res(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'], parts.join(''));
const ch = (data: string) => `${data.length.toString(16)}\r\n${data}\r\n`;
const END = '0\r\n\r\n';
const INNER = res(['HTTP/1.1 500 Oops', 'Content-Length: 0']);

const UNASKED_100 = { expect: malformed, why: 'RFC 9110 §15.2: a client MUST parse 1xx responses it did not ask for; undici closes the connection on a 100 it did not expect ("bad response")' };
const bareLf: Outcome = ok(200, 2);
const bareLfWhy = 'RFC 9112 §2.2 lets a recipient accept a bare LF as a line end; llhttp refuses it in strict mode. A load tester measures the server browsers can read.';

export const CASES: Case[] = [
  // ---- valid ----
  { name: 'a plain 200 with Content-Length', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'Content-Length: 0', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 0']), expect: ok(200, 0) },
  { name: 'a 404 with a body', raw: res(['HTTP/1.1 404 Not Found', 'Content-Length: 9'], 'not found'), expect: ok(404, 9) },
  { name: 'a 503', raw: res(['HTTP/1.1 503 Service Unavailable', 'Content-Length: 4', 'Retry-After: 1'], 'busy'), expect: ok(503, 4) },
  { name: 'no reason phrase', raw: res(['HTTP/1.1 200', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'an empty reason phrase', raw: res(['HTTP/1.1 200 ', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'a reason phrase with obs-text', raw: res(['HTTP/1.1 200 Tr\xe8s bien', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'a reason phrase with spaces and digits', raw: res(['HTTP/1.1 201 Created 2 things', 'Content-Length: 2'], 'ok'), expect: ok(201, 2) },
  { name: 'HTTP/1.0 with Content-Length', raw: res(['HTTP/1.0 200 OK', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'HTTP/1.0, body until the close', raw: res(['HTTP/1.0 200 OK'], 'hello'), after: 'close', expect: ok(200, 5) },
  { name: 'HTTP/1.0 keep-alive', raw: res(['HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'HTTP/1.1, no length: body until the close', raw: res(['HTTP/1.1 200 OK', 'Content-Type: text/plain'], 'until close'), after: 'close', expect: ok(200, 11) },
  { name: 'HTTP/1.1, no length, empty body until the close', raw: res(['HTTP/1.1 200 OK']), after: 'close', expect: ok(200, 0) },
  { name: 'Connection: close with Content-Length', raw: res(['HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 2'], 'ok'), after: 'close', expect: ok(200, 2) },
  { name: 'Connection: close, keep-alive tokens', raw: res(['HTTP/1.1 200 OK', 'Connection: Upgrade, Close', 'Content-Length: 2'], 'ok'), after: 'close', expect: ok(200, 2) },
  { name: 'a lower-case header name', raw: res(['HTTP/1.1 200 OK', 'content-length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'an upper-case header name', raw: res(['HTTP/1.1 200 OK', 'CONTENT-LENGTH: 2'], 'ok'), expect: ok(200, 2) },
  {
    name: 'Content-Length with spaces around it',
    raw: res(['HTTP/1.1 200 OK', 'Content-Length:    2   '], 'ok'),
    expect: ok(200, 2),
    undici: { expect: malformed, why: 'whitespace around a field value is not part of it (RFC 9110 §5.5); undici compares the value with the trailing spaces and finds a mismatch' },
  },
  { name: 'Content-Length after a tab', raw: res(['HTTP/1.1 200 OK', 'Content-Length:\t2'], 'ok'), expect: ok(200, 2) },
  { name: 'Content-Length with leading zeros', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 002'], 'ok'), expect: ok(200, 2) },
  { name: 'a 100 KB body', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 102400'], 'x'.repeat(102400)), expect: ok(200, 102400) },
  { name: 'a body that looks like a response', raw: res(['HTTP/1.1 200 OK', `Content-Length: ${INNER.length}`], INNER), expect: ok(200, INNER.length) },
  { name: 'an empty header value', raw: res(['HTTP/1.1 200 OK', 'X-Empty:', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'a tab in a header value', raw: res(['HTTP/1.1 200 OK', 'X-Tab: a\tb', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'obs-text in a header value', raw: res(['HTTP/1.1 200 OK', 'X-Name: J\xfcrgen', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: '100 headers', raw: res(['HTTP/1.1 200 OK', ...Array.from({ length: 100 }, (_, i) => `X-H${i}: ${i}`), 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'a 10 KB header', raw: res(['HTTP/1.1 200 OK', `X-Big: ${'a'.repeat(10_000)}`, 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'a 40 KB head', raw: res(['HTTP/1.1 200 OK', ...Array.from({ length: 40 }, (_, i) => `X-Big${i}: ${'b'.repeat(1000)}`), 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  { name: 'an empty line before the status line', raw: `\r\n${res(['HTTP/1.1 200 OK', 'Content-Length: 2'], 'ok')}`, expect: ok(200, 2) },
  { name: 'status 599', raw: res(['HTTP/1.1 599 Whatever', 'Content-Length: 2'], 'ok'), expect: ok(599, 2) },
  { name: 'status 299', raw: res(['HTTP/1.1 299 Custom', 'Content-Length: 2'], 'ok'), expect: ok(299, 2) },
  { name: 'a 301 with Location', raw: res(['HTTP/1.1 301 Moved Permanently', 'Location: /x', 'Content-Length: 0']), expect: ok(301, 0) },
  { name: 'Set-Cookie twice', raw: res(['HTTP/1.1 200 OK', 'Set-Cookie: a=1', 'Set-Cookie: b=2', 'Content-Length: 2'], 'ok'), expect: ok(200, 2) },
  // chunked
  { name: 'chunked, one chunk', raw: chunked(ch('hello'), END), expect: ok(200, 5) },
  { name: 'chunked, three chunks', raw: chunked(ch('hel'), ch('lo '), ch('world'), END), expect: ok(200, 11) },
  { name: 'chunked, no data', raw: chunked(END), expect: ok(200, 0) },
  { name: 'chunked, upper-case hex size', raw: chunked('A\r\n0123456789\r\n', END), expect: ok(200, 10) },
  { name: 'chunked, leading zeros in the size', raw: chunked('0005\r\nhello\r\n', END), expect: ok(200, 5) },
  { name: 'chunked, a chunk extension', raw: chunked('5;name=value\r\nhello\r\n', END), expect: ok(200, 5) },
  { name: 'chunked, a quoted chunk extension', raw: chunked('5;a="b;c"\r\nhello\r\n', END), expect: ok(200, 5) },
  { name: 'chunked, trailers', raw: chunked(ch('hello'), '0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n'), expect: ok(200, 5) },
  { name: 'chunked, a Content-Length trailer', raw: chunked(ch('hello'), '0\r\nContent-Length: 99\r\n\r\n'), expect: malformed },
  { name: 'chunked, a 64 KB chunk', raw: chunked(ch('z'.repeat(65536)), END), expect: ok(200, 65536) },
  { name: 'Transfer-Encoding: Chunked (case)', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding: Chunked'], `${ch('hi')}${END}`), expect: ok(200, 2) },
  { name: 'Transfer-Encoding: gzip, chunked', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, chunked'], `${ch('hi')}${END}`), expect: ok(200, 2) },
  { name: 'Transfer-Encoding over two lines, chunked last', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'], `${ch('hi')}${END}`), expect: ok(200, 2) },
  { name: 'Transfer-Encoding: gzip (not chunked): until the close', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'], 'abcdef'), after: 'close', expect: ok(200, 6) },
  { name: 'Transfer-Encoding: chunked, gzip (chunked not last): until the close', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked, gzip'], '2\r\nhi\r\n'), after: 'close', expect: ok(200, 7) },
  // no body
  { name: 'HEAD with Content-Length: no body', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 5']), method: 'HEAD', expect: ok(200, 0) },
  { name: 'HEAD with Transfer-Encoding: chunked: no body', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked']), method: 'HEAD', expect: ok(200, 0) },
  { name: 'HEAD without a length: no body', raw: res(['HTTP/1.1 200 OK']), method: 'HEAD', expect: ok(200, 0) },
  { name: '204 without a length', raw: res(['HTTP/1.1 204 No Content']), expect: ok(204, 0) },
  { name: '204 with Content-Length: no body', raw: res(['HTTP/1.1 204 No Content', 'Content-Length: 0']), expect: ok(204, 0) },
  { name: '304 with Content-Length: no body', raw: res(['HTTP/1.1 304 Not Modified', 'Content-Length: 10', 'ETag: "x"']), expect: ok(304, 0) },
  { name: '304 with Transfer-Encoding: no body', raw: res(['HTTP/1.1 304 Not Modified', 'Transfer-Encoding: chunked']), expect: ok(304, 0) },
  // 1xx
  { name: '100 Continue before a 200', raw: `HTTP/1.1 100 Continue\r\n\r\n${res(['HTTP/1.1 200 OK', 'Content-Length: 2'], 'ok')}`, expect: ok(200, 2), undici: UNASKED_100 },
  { name: '103 Early Hints before a 200', raw: `${res(['HTTP/1.1 103 Early Hints', 'Link: </a.css>; rel=preload'])}${res(['HTTP/1.1 200 OK', 'Content-Length: 2'], 'ok')}`, expect: ok(200, 2) },
  { name: 'two 1xx before a 204', raw: `HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </b>\r\n\r\n${res(['HTTP/1.1 204 No Content'])}`, expect: ok(204, 0) },
  { name: '100 Continue before a chunked 200', raw: `HTTP/1.1 100 Continue\r\n\r\n${chunked(ch('hello'), END)}`, expect: ok(200, 5), undici: UNASKED_100 },
  // line ends
  { name: 'bare LF line ends', raw: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', expect: bareLf, undici: { expect: malformed, why: bareLfWhy } },
  { name: 'bare LF after the status line only', raw: 'HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok', expect: bareLf, undici: { expect: malformed, why: bareLfWhy } },
  { name: 'a bare-LF head whose body holds an empty CRLF line', raw: 'HTTP/1.1 200 OK\nContent-Length: 8\n\nab\r\n\r\ncd', expect: ok(200, 8), undici: { expect: malformed, why: bareLfWhy } },
  { name: 'a CRLF head whose body holds an empty LF line', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 6'], 'ab\n\ncd'), expect: ok(200, 6) },
  { name: 'bare LF chunk lines', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'], '2\nok\n0\n\n'), expect: bareLf, undici: { expect: malformed, why: bareLfWhy } },

  // ---- malformed ----
  { name: 'status 2x0', raw: res(['HTTP/1.1 2x0 OK', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'a two-digit status', raw: res(['HTTP/1.1 20 OK', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'a four-digit status', raw: res(['HTTP/1.1 2000 OK', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'no space after the version', raw: res(['HTTP/1.1200 OK', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'two spaces before the status', raw: res(['HTTP/1.1  200 OK', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'a lower-case protocol name', raw: res(['http/1.1 200 OK', 'Content-Length: 2'], 'ok'), expect: malformed },
  {
    name: 'HTTP/2.0 on an HTTP/1.1 connection',
    raw: res(['HTTP/2.0 200 OK', 'Content-Length: 2'], 'ok'),
    expect: malformed,
    undici: { expect: ok(200, 2), why: 'llhttp accepts the 2.0 version in HTTP/1 framing; faultline asked in HTTP/1.1 and an HTTP/2.0 status line means a hop that mixed protocols' },
  },
  { name: 'HTTP/1.x with a bad minor version', raw: res(['HTTP/1.x 200 OK', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'plain-text garbage', raw: 'hello, I am not HTTP\r\n\r\n', expect: malformed },
  { name: 'an SSH banner', raw: 'SSH-2.0-OpenSSH_9.2p1\r\n', expect: malformed },
  { name: 'binary garbage', raw: '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03', expect: malformed },
  { name: 'a NUL in the status line', raw: res(['HTTP/1.1 200\x00OK', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'Content-Length: 3abc', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 3abc'], 'abc'), expect: malformed },
  { name: 'Content-Length: -1', raw: res(['HTTP/1.1 200 OK', 'Content-Length: -1'], 'x'), expect: malformed },
  { name: 'Content-Length: +2', raw: res(['HTTP/1.1 200 OK', 'Content-Length: +2'], 'ok'), expect: malformed },
  { name: 'an empty Content-Length', raw: res(['HTTP/1.1 200 OK', 'Content-Length:'], 'ok'), expect: malformed },
  { name: 'Content-Length: 1 2', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 1 2'], 'ok'), expect: malformed },
  { name: 'Content-Length: 0x10', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 0x10'], 'ok'), expect: malformed },
  { name: 'conflicting Content-Length headers', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 2', 'Content-Length: 3'], 'ok!'), expect: malformed },
  { name: 'a repeated Content-Length (same value)', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 2', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'a Content-Length list', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 2, 2'], 'ok'), expect: malformed },
  { name: 'Content-Length : 2 (space before the colon)', raw: res(['HTTP/1.1 200 OK', 'Content-Length : 2'], 'ok'), expect: malformed },
  { name: 'Transfer-Encoding : chunked (space before the colon)', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding : chunked'], `${ch('hi')}${END}`), expect: malformed },
  { name: 'Transfer-Encoding and Content-Length together', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 7', 'Transfer-Encoding: chunked'], `${ch('hi')}${END}`), expect: malformed },
  { name: 'a header line without a colon', raw: res(['HTTP/1.1 200 OK', 'X-Foo bar', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'a space inside a header name', raw: res(['HTTP/1.1 200 OK', 'X Foo: bar', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'an empty header name', raw: res(['HTTP/1.1 200 OK', ': bar', 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'a bare CR in a framing header', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 2\r5'], 'ok'), expect: malformed },
  { name: 'obs-fold in Content-Length', raw: res(['HTTP/1.1 200 OK', 'Content-Length:', ' 2'], 'ok'), expect: malformed },
  { name: 'obs-fold in Transfer-Encoding', raw: res(['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip,', ' chunked'], `${ch('hi')}${END}`), expect: malformed },
  { name: 'a 70 KB head', raw: res(['HTTP/1.1 200 OK', ...Array.from({ length: 70 }, (_, i) => `X-Big${i}: ${'c'.repeat(1000)}`), 'Content-Length: 2'], 'ok'), expect: malformed },
  { name: 'a head that never ends (over 64 KB)', raw: `HTTP/1.1 200 OK\r\nX-Endless: ${'d'.repeat(70_000)}`, expect: malformed },
  { name: '101 Switching Protocols to a request that asked for none', raw: res(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade']), expect: malformed },
  { name: 'chunk size zz', raw: chunked('zz\r\nhello\r\n', END), expect: malformed },
  { name: 'chunk size 5x', raw: chunked('5x\r\nhello\r\n', END), expect: malformed },
  { name: 'chunk size -5', raw: chunked('-5\r\nhello\r\n', END), expect: malformed },
  { name: 'an empty chunk size line', raw: chunked('\r\nhello\r\n', END), expect: malformed },
  { name: 'a chunk size that overflows', raw: chunked('fffffffffffffffffff\r\nhello\r\n', END), expect: malformed },
  { name: 'a chunk longer than its size', raw: chunked('3\r\nhello\r\n', END), expect: malformed },
  { name: 'a chunk not ended by CRLF', raw: chunked('5\r\nhelloXY', END), expect: malformed },
  { name: 'a bad trailer line', raw: chunked(ch('hello'), '0\r\nnot a trailer\r\n\r\n'), expect: malformed },

  // ---- the connection ends first ----
  { name: 'closed before any byte', raw: '', after: 'close', expect: closed },
  { name: 'closed inside the status line', raw: 'HTTP/1.1 20', after: 'close', expect: closed },
  { name: 'closed inside the headers', raw: 'HTTP/1.1 200 OK\r\nContent-Len', after: 'close', expect: closed },
  { name: 'closed inside a Content-Length body', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 10'], 'hello'), after: 'close', expect: closed },
  { name: 'closed inside a chunked body', raw: chunked(ch('hello')), after: 'close', expect: closed },
  { name: 'closed after a 103 Early Hints', raw: 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', after: 'close', expect: closed },
  { name: 'a Content-Length body shorter than said, connection open', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 10'], 'hello'), expect: timeout },
  { name: 'chunked without its last chunk, connection open', raw: chunked(ch('hello')), expect: timeout },
  { name: 'a head without its empty line, connection open', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n', expect: timeout },
  { name: 'reset before any byte', raw: '', after: 'reset', expect: reset },
  { name: 'reset inside a body', raw: res(['HTTP/1.1 200 OK', 'Content-Length: 10'], 'hello'), after: 'reset', expect: reset },
];
