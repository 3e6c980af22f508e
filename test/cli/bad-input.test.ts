import { describe, it, expect } from 'vitest';
import { cli } from '../helpers/run.ts';

/** Bad input: one clear line per problem on stderr, exit 2, never a stack trace. */
async function expectUsage(args: string[], pattern: RegExp, lines = 1) {
  const r = await cli(args, { timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  expect(r.stderr.trim().split('\n').length).toBe(lines);
  return r;
}

describe('bad input exits 2 with one line per problem', () => {
  it('missing file', () => expectUsage(['run', 'test/fixtures/scenarios/nope.yaml'], /cannot read scenario .*nope\.yaml: no such file/));
  it('unparsable YAML', () => expectUsage(['run', 'test/fixtures/scenarios/bad.yaml'], /bad\.yaml: invalid YAML/));
  it('unparsable JSON', () => expectUsage(['run', 'test/fixtures/scenarios/bad.json'], /bad\.json: invalid JSON/));
  it('every problem in a scenario, each with its path', async () => {
    const r = await expectUsage(['validate', 'test/fixtures/scenarios/problems.yaml'], /requests\[0\]\.weight: expected a weight greater than zero/, 3);
    expect(r.stderr).toMatch(/requests\[1\]\.colour: unknown key "colour"/);
    expect(r.stderr).toMatch(/load\.to: expected a rate like "3x" or "1500", got "3y"/);
  });
  it('hypothesis typos are errors, never a silent pass', async () => {
    const r = await cli(['validate', '--url', 'http://127.0.0.1:9/', '--rate', '10', '--duration', '1s', '--hypothesis', 'checkuot.p99 < 300ms, p99 << 2'], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hypothesis\[0\]: no request is named "checkuot"/);
    expect(r.stderr).toMatch(/hypothesis\[1\]: .*"p99 << 2"/);
  });
  it('unknown key', () => expectUsage(['run', '--url', 'http://127.0.0.1:9/', '--rate', '10', '--duration', '1s', '--bogus'], /unknown option '--bogus'/));
  it('zero rate', () => expectUsage(['run', '--url', 'http://127.0.0.1:9/', '--rate', '0', '--duration', '1s'], /load\.rate: expected a rate greater than zero/));
  it('negative rate', () => expectUsage(['run', '--url', 'http://127.0.0.1:9/', '--rate', '-5', '--duration', '1s'], /load\.rate: expected a rate like/));
  it('unparsable duration', () => expectUsage(['run', '--url', 'http://127.0.0.1:9/', '--rate', '10', '--duration', '10 parsecs'], /load\.duration: expected a duration like "250ms"/));
  it('non-HTTP URL', () => expectUsage(['run', '--url', 'ftp://127.0.0.1/x', '--rate', '10', '--duration', '1s'], /expected an http:\/\/ (or https:\/\/ )?URL/));
  it('a URL that is not loopback', () => expectUsage(['run', '--url', 'http://example.com/', '--rate', '10', '--duration', '1s'], /only to loopback/));
  it('empty request list', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/fl-`);
    writeFileSync(`${dir}/empty.json`, JSON.stringify({ target: 'http://127.0.0.1:9', requests: [], load: { profile: 'constant', rate: 10, duration: '1s' } }));
    await expectUsage(['run', `${dir}/empty.json`], /requests: expected at least one request/);
  });
  it('weight ≤ 0', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/fl-`);
    writeFileSync(`${dir}/w.yaml`, 'target: http://127.0.0.1:9\nrequests: [{ path: /, weight: -1 }]\nload: { profile: constant, rate: 10, duration: 1s }\n');
    await expectUsage(['run', `${dir}/w.yaml`], /requests\[0\]\.weight: expected a weight greater than zero/);
  });
  it('nothing to run', () => expectUsage(['run'], /nothing to run/));
});
