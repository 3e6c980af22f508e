/**
 * A scenario with a service on its own host, on a machine that cannot make
 * one: `validate` and `run` say what is missing in one line and exit 2,
 * before anything starts. Without root: run as nobody (setpriv); without
 * the programs: FAULTLINE_HOST_PATH replaces PATH for the look-up.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cli, BIN, ROOT } from '../helpers/run.ts';
import { which } from '../../src/hosts/tools.ts';

const file = 'scenarios/payment-link-down.yaml';
const LINE = /^faultline: services\.payment\.host: a service on its own host \(network namespace\) needs (.+)$/;

describe('hosts need root, ip, tc, nft and sysctl', () => {
  it('without the programs: validate and run name each one and its Debian package, exit 2', async () => {
    for (const cmd of ['validate', 'run']) {
      const r = await cli([cmd, file], { env: { FAULTLINE_HOST_PATH: '/nonexistent' }, timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      const m = LINE.exec(lines[0]);
      expect(m, lines[0]).not.toBeNull();
      expect(m![1]).toContain('ip (Debian package iproute2), tc (Debian package iproute2), nft (Debian package nftables), sysctl (Debian package procps)');
    }
  }, 60_000);

  it.skipIf(process.getuid?.() !== 0 || !which('setpriv'))('without root: one line naming the uid, exit 2', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'validate', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim()).toMatch(LINE);
    expect(r.stderr.trim()).toContain('needs root (running as uid 65534)');
  }, 30_000);
});
