import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { redact, redactText, REDACTED } from '../../src/report/redact.ts';
import { cli, type CliResult } from '../helpers/run.ts';

describe('redactText', () => {
  it.each([
    ['run --url http://u:pa55@127.0.0.1:1/ --json x', 'run --url http://[REDACTED]@127.0.0.1:1/ --json x'],
    ['run --header Authorization: Bearer abc.def --header X-Trace: 7 -q', 'run --header Authorization: [REDACTED] --header X-Trace: 7 -q'],
    ['--header "Cookie: a=1; b=2" --header X-Api-Key:k3y', '--header "Cookie: [REDACTED]" --header X-Api-Key:[REDACTED]'],
    ['HTTP 500: {"error":"x","set-cookie":"sid=1","ok":1}', 'HTTP 500: {"error":"x","set-cookie":"[REDACTED]","ok":1}'],
    ['Set-Cookie: sid=abc; Path=/\r\nContent-Type: text/plain', 'Set-Cookie: [REDACTED]\r\nContent-Type: text/plain'],
    ['proxy-authorization=Basic dXNlcjpwYXNz', 'proxy-authorization=[REDACTED]'],
    ['X-Auth-Token: t0k3n', 'X-Auth-Token: [REDACTED]'],
    ['GET /api?access_token=abc&page=2', 'GET /api?access_token=[REDACTED]&page=2'],
    ['exec failed: curl -H "Authorization: Bearer zzz" https://admin:pw@127.0.0.1:9/x', 'exec failed: curl -H "Authorization: [REDACTED]" https://[REDACTED]@127.0.0.1:9/x'],
    ['sent with Bearer eyJhbGciOiJIUzI1NiJ9.payload', `sent with Bearer ${REDACTED}`],
    // By rule: any name containing token, secret, session, key, auth, password, cookie.
    ['--header Private-Token: glpat-123 --header X-Trace: 7', '--header Private-Token: [REDACTED] --header X-Trace: 7'],
    ['GET /a?sessionid=abc123&page=2&PHPSESSID=zz#top', 'GET /a?sessionid=[REDACTED]&page=2&PHPSESSID=[REDACTED]#top'],
    ['--body user=me&password=hunter2&remember=1', '--body user=me&password=[REDACTED]&remember=1'],
    ['{"client_secret":"s3","grant_type":"x"}', '{"client_secret":"[REDACTED]","grant_type":"x"}'],
    ['Ocp-Apim-Subscription-Key: 0f0f', 'Ocp-Apim-Subscription-Key: [REDACTED]'],
    ['X-Goog-AuthUser: 1', 'X-Goog-AuthUser: [REDACTED]'],
  ])('%s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('leaves ordinary text, header names alone and encoded histograms alone', () => {
    for (const s of ['the authorization header was missing', 'p99 < 250ms', 'GET http://127.0.0.1:8080/products', 'HISTFAAAAFV4nJNpmSzMwMBgzMDAwMjAwMDMAAEgNsO1yUsYYPyjfEyqTNFMgkxXmZhcmYyZfJk0mY4zMb1nYprJyDSdkUmXSRNE3WViamRkOsjGtFiBCQAFEw2j']) {
      expect(redactText(s)).toBe(s);
    }
  });
});

describe('redaction rule is configurable (FAULTLINE_REDACT adds words)', () => {
  it('an extra word makes its names secret too, and the built-in words stay', () => {
    const before = process.env.FAULTLINE_REDACT;
    process.env.FAULTLINE_REDACT = 'ssn, tenant-pin';
    try {
      expect(redactText('X-Customer-SSN: 123-45 --header X-Tenant-Pin: 99 --header Private-Token: t')).toBe('X-Customer-SSN: [REDACTED] --header X-Tenant-Pin: [REDACTED] --header Private-Token: [REDACTED]');
      expect(redact({ headers: { ssn: '1' } })).toEqual({ headers: { ssn: REDACTED } });
    } finally {
      if (before === undefined) delete process.env.FAULTLINE_REDACT;
      else process.env.FAULTLINE_REDACT = before;
    }
    expect(redactText('X-Customer-SSN: 123-45')).toBe('X-Customer-SSN: 123-45');
  });
});

describe('redact', () => {
  it('redacts secret-named keys and every string inside, deep, without mutating its input', () => {
    const input = { meta: { command: 'run --header Cookie: s=1' }, headers: { Authorization: 'Basic x', 'x-api-key': 'k', Accept: 'text/plain' }, list: [{ note: 'Set-Cookie: a=b' }], n: 3, ok: true, none: null };
    const copy = structuredClone(input);
    const out = redact(input);
    expect(input).toEqual(copy);
    expect(out).toEqual({ meta: { command: `run --header Cookie: ${REDACTED}` }, headers: { Authorization: REDACTED, 'x-api-key': REDACTED, Accept: 'text/plain' }, list: [{ note: `Set-Cookie: ${REDACTED}` }], n: 3, ok: true, none: null });
  });
});

describe('secrets never reach a report (a real run)', () => {
  let server: http.Server;
  let port: number;
  let dir: string;
  let out: CliResult;
  const SECRETS = ['sekrit1', 'sekrit2', 'sekrit3', 'sekrit4', 'sekrit5', 'sekrit6', 'sekrit7', 'sekrit8', 'sekrit9'];

  beforeAll(async () => {
    // Every answer is a 500 carrying a cookie, so error examples hold server text.
    server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(500, { 'set-cookie': 'sid=sekrit5' });
      res.end(`Set-Cookie: sid=sekrit5 for ${req.url}`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    dir = await mkdtemp(join(tmpdir(), 'faultline-redact-'));
    out = await cli(
      [
        'run',
        '--url', `http://127.0.0.1:${port}/api?token=sekrit1&sessionid=sekrit6`,
        '--header', 'Authorization: Bearer sekrit2',
        '--header', 'X-Api-Key: sekrit3',
        '--header', 'Cookie: session=sekrit4',
        '--header', 'Private-Token: sekrit7',
        '--header', 'X-Customer-Ssn: sekrit8',
        '--body', 'user=me&password=sekrit9',
        '--rate', '40', '--duration', '1s', '--no-baseline', '--workers', '1',
        '--hypothesis', 'errors<1%',
        '--json', join(dir, 'r.json'), '--html', join(dir, 'r.html'), '--junit', join(dir, 'r.xml'), '--hdr-log', join(dir, 'r.hlog'),
      ],
      { cwd: dir, env: { FAULTLINE_REDACT: 'ssn' } },
    );
  }, 60_000);

  afterAll(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('not in the terminal output, the live view, or any file written (the kept last result too)', async () => {
    expect(out.stdout).toContain('wrote ');
    const texts: [string, string][] = [['stdout', out.stdout], ['stderr', out.stderr]];
    for (const f of ['r.json', 'r.html', 'r.xml', 'r.hlog', '.faultline/last-result.json']) texts.push([f, await readFile(join(dir, f), 'utf8')]);
    for (const [where, text] of texts) for (const s of SECRETS) expect(text.includes(s), `${s} in ${where}`).toBe(false);
    expect(await readdir(dir)).toContain('r.json');
    // What was redacted is still visibly there, redacted.
    const r = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8'));
    expect(r.meta.command).toContain('Authorization: [REDACTED]');
    expect(r.meta.command).toContain('Private-Token: [REDACTED]');
    expect(r.meta.command).toContain('password=[REDACTED]');
    expect(r.meta.command).toContain('X-Customer-Ssn: [REDACTED]');
    expect(r.stages[0].examples.http_5xx).toMatch(/token=\[REDACTED\]/);
  });

  it('and `report` on the saved file prints none either', async () => {
    const again = await cli(['report', join(dir, 'r.json'), '--html', join(dir, 'again.html'), '--junit', join(dir, 'again.xml'), '--hdr-log', join(dir, 'again.hlog')], { env: { FAULTLINE_REDACT: 'ssn' } });
    for (const f of ['again.html', 'again.xml', 'again.hlog']) for (const s of SECRETS) expect((await readFile(join(dir, f), 'utf8')).includes(s), `${s} in ${f}`).toBe(false);
    for (const s of SECRETS) expect(again.stdout + again.stderr).not.toContain(s);
  });
});
