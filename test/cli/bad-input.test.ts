import { describe, it, expect, beforeAll, afterAll } from 'vitest';
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

/**
 * Careless and hostile input (issue 13): each case answered with one line and
 * exit 2, within 2 s of the CLI's own start-up (measured here as `--version`,
 * since the machine running the suite may be busy), never a warning or a hang.
 */
describe('hostile and careless input: one line, exit 2, within 2 s', () => {
  let startupMs = 0;
  let dir = '';
  const url = ['--url', 'http://127.0.0.1:9/'];
  const base = { target: 'http://127.0.0.1:9', load: { profile: 'constant', rate: 10, duration: '1s' } };
  beforeAll(async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    dir = mkdtempSync(`${tmpdir()}/fl-h13-bad-`);
    const t0 = performance.now();
    await cli(['--version']);
    startupMs = performance.now() - t0;
  }, 30_000);
  afterAll(async () => {
    const { rmSync } = await import('node:fs');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const file = async (name: string, content: string | object) => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/${name}`, typeof content === 'string' ? content : JSON.stringify(content));
    return `${dir}/${name}`;
  };
  async function quick(args: string[], pattern: RegExp, opts: { code?: number; cwd?: string } = {}) {
    const t0 = performance.now();
    const r = await cli(args, { timeoutMs: 30_000, cwd: opts.cwd });
    const ms = performance.now() - t0;
    expect(r.code, r.stderr).toBe(opts.code ?? 2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+|Warning/); // no stack trace, no Node warning
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(ms, `took ${Math.round(ms)} ms; start-up alone ${Math.round(startupMs)} ms`).toBeLessThan(startupMs + 2000);
    return r;
  }

  it('a CR/LF in a header value (it would start a new header): refused, not a worker that never starts', () =>
    quick(['run', ...url, '--rate', '10', '--duration', '1s', '--header', 'X-Trace: a\r\nX-Injected: 1'], /requests\[0\]\.headers\.X-Trace: expected a header value without line breaks/));
  it('a CR/LF or a space in a header name', async () => {
    await quick(['validate', ...url, '--rate', '10', '--duration', '1s', '--header', 'X\r\nEvil: 1'], /requests\[0\]\.headers\["X\\r\\nEvil"\]: expected a header name/);
    await quick(['validate', ...url, '--rate', '10', '--duration', '1s', '--header', 'X Evil: 1'], /headers\["X Evil"\]: expected a header name/);
  });
  it('a line break in a path (request smuggling)', async () =>
    quick(['validate', await file('path.json', { ...base, requests: [{ path: '/a HTTP/1.1\r\nHost: x\r\n\r\nGET /b' }] })], /requests\[0\]\.path: expected a path without spaces or control characters/));
  it('duration: 99999999999h — a sane maximum, no TimeoutOverflowWarning', async () =>
    quick(['run', await file('long.yaml', 'target: http://127.0.0.1:9\nrequests: [{ path: / }]\nload: { profile: constant, rate: 10, duration: 99999999999h }\n')], /load\.duration: expected at most 168h \(7 days\), got "99999999999h"/));
  it('a request timeout past the maximum', () => quick(['validate', ...url, '--rate', '10', '--duration', '1s', '--timeout', '9999h'], /engine\.timeout: expected at most 168h/));
  it('duplicate request names are refused, not merged', async () =>
    quick(['validate', await file('dup.json', { ...base, requests: [{ name: 'home', path: '/' }, { name: 'home', path: '/other' }] })], /requests\[1\]\.name: "home" is also the name of requests\[0\]/));
  it('two faults with the same name', async () =>
    quick(
      ['validate', await file('faults.json', { ...base, requests: [{ path: '/' }], faults: [{ name: 'x', kind: 'exec', command: 'true', at: '0s' }, { name: 'x', kind: 'exec', command: 'true', at: '0s' }] })],
      /faults\[1\]\.name: "x" is also the name of faults\[0\]/,
    ));
  it('a search from above its to', () => quick(['validate', ...url, '--profile', 'search', '--from', '500', '--to', '100'], /load\.from: the search starts at 500 req\/s, above load\.to \(100 req\/s\)/));
  it('10,000 request names: refused, naming the cap', async () => {
    const requests = Array.from({ length: 10_000 }, (_, i) => ({ name: `r${i}`, path: `/${i}` }));
    await quick(['run', await file('names.json', { ...base, load: { profile: 'constant', rate: 200, duration: '2s' }, requests })], /requests: 10000 request names is over the limit of 500/);
  });
  it('a 50 MB YAML scenario: refused by size before it is parsed', async () => {
    const big = 'target: http://127.0.0.1:9\nload: { profile: constant, rate: 10, duration: 1s }\nrequests:\n' + '  - { path: /, weight: 1 }\n'.repeat(2_000_000);
    await quick(['validate', await file('big.yaml', big)], /big\.yaml: 5\d\.\d MB is over the 5\.0 MB limit for a scenario file/);
  });
  it('--concurrency 50 --pipelining 10 says what the flags will do (a warning; still valid)', async () => {
    const r = await cli(['validate', ...url, '--concurrency', '50', '--duration', '1s', '--pipelining', '10'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/valid/);
    expect(r.stdout).toMatch(/warning: pipelining 10 has no effect: concurrency 50 counts requests in flight in all \(not connections, as -c does in wrk and autocannon\).*set concurrency 500, connections 50, pipelining 10\n/);
  });
});

describe('scenario modules: bounded loading, real errors', () => {
  let dir = '';
  beforeAll(async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    dir = mkdtempSync(`${tmpdir()}/fl-h13-load-`);
    const scenario = `{ target: 'http://127.0.0.1:9', requests: [{ path: '/' }], load: { profile: 'constant', rate: 10, duration: '1s' } }`;
    // Outside any "type": "module" package (a CommonJS one), and inside one.
    mkdirSync(`${dir}/cjs`);
    writeFileSync(`${dir}/cjs/package.json`, '{ "name": "cjs-project" }');
    writeFileSync(`${dir}/cjs/plain.ts`, `import { defineScenario } from 'faultline';\nconst rate: number = 10;\nexport default defineScenario(${scenario});\n`);
    writeFileSync(`${dir}/cjs/tla.ts`, `const n: number = await Promise.resolve(1);\nexport default ${scenario};\n`);
    writeFileSync(`${dir}/cjs/syntax.ts`, `export default { target: 'http://127.0.0.1:9', requests: [{ path: '/' }, load: 1 };\n`);
    mkdirSync(`${dir}/esm`);
    writeFileSync(`${dir}/esm/package.json`, '{ "name": "esm-project", "type": "module" }');
    writeFileSync(`${dir}/esm/tla-throws.ts`, `const url: string = await Promise.reject(new Error('DATABASE_URL is not set'));\nexport default ${scenario};\n`);
    writeFileSync(`${dir}/esm/never.ts`, `export default await new Promise(() => {});\n`);
    writeFileSync(`${dir}/esm/never-default.mjs`, `export default new Promise(() => {});\n`);
    writeFileSync(`${dir}/esm/timer.ts`, `setInterval(() => {}, 1000);\nexport default ${scenario};\n`);
  }, 30_000);
  afterAll(async () => {
    const { rmSync } = await import('node:fs');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const timed = async (args: string[]) => {
    const t0 = performance.now();
    const r = await cli(args, { timeoutMs: 40_000 });
    return { ...r, ms: performance.now() - t0 };
  };

  it('a .ts scenario in a CommonJS package loads (faultline resolves from anywhere)', async () => {
    const r = await timed(['validate', `${dir}/cjs/plain.ts`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/plain\.ts: valid — 1 request/);
  });
  it('top-level await outside an ES module package: says why and what to do', async () => {
    const r = await timed(['validate', `${dir}/cjs/tla.ts`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`faultline: ${dir}/cjs/tla.ts: cannot load: line 1, column 19: top-level await needs an ES module, and the nearest package.json does not say "type": "module" (add it, or rename the file to .mts)`);
  });
  it('a syntax error names its line and column, not "Transform failed"', async () => {
    const r = await timed(['validate', `${dir}/cjs/syntax.ts`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/syntax\.ts: cannot load: line 1, column \d+: Expected "\]" but found ":"$/);
  });
  it('a top-level await that throws shows the real error', async () => {
    const r = await timed(['validate', `${dir}/esm/tla-throws.ts`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`faultline: ${dir}/esm/tla-throws.ts: cannot load: DATABASE_URL is not set`);
  });
  it('a top-level await or a default export that never settles: a load timeout, and the CLI exits', async () => {
    for (const f of ['never.ts', 'never-default.mjs']) {
      const r = await timed(['validate', `${dir}/esm/${f}`, '--load-timeout', '1s']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(`faultline: ${dir}/esm/${f} did not finish loading within 1s (a top-level await or a default export that never settles?); raise the limit with --load-timeout or FAULTLINE_LOAD_TIMEOUT`);
    }
  }, 60_000);
  it('a module whose top level keeps a timer: validate still exits', async () => {
    const r = await timed(['validate', `${dir}/esm/timer.ts`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.signal).toBe(null); // not killed by the helper's timeout
  });
});
