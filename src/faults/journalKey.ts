/**
 * The journal's signing key: 32 random bytes in a 0600 file, one per machine
 * and user, created on first use. Every line faultline writes to a journal
 * carries an HMAC over its content, and `recover` acts only on lines whose
 * HMAC checks out, so a journal written or edited by anyone else (a crafted
 * file in a checked-out repository, a tampered argv) is refused, never run.
 *
 * Where: $FAULTLINE_JOURNAL_KEY, else /var/lib/faultline/journal.key for root,
 * else $XDG_STATE_HOME/faultline/journal.key (~/.local/state/faultline/…).
 */
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export class JournalKeyError extends Error {
  override name = 'JournalKeyError';
}

export function journalKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_JOURNAL_KEY) return env.FAULTLINE_JOURNAL_KEY;
  if (process.getuid?.() === 0) return '/var/lib/faultline/journal.key';
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'faultline', 'journal.key');
}

const cache = new Map<string, Buffer>();

/** Reads the key; refuses one that others could read or write. undefined when there is none yet. */
function readKey(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new JournalKeyError(`cannot read the journal key ${path}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw new JournalKeyError(`refusing the journal key ${path}: owned by uid ${st.uid}, not by this user (${uid})`);
    if (st.mode & 0o077) throw new JournalKeyError(`refusing the journal key ${path}: mode ${(st.mode & 0o777).toString(8)} lets others read or change it (chmod 600 it)`);
    const hex = readFileSync(fd, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new JournalKeyError(`refusing the journal key ${path}: not 64 hex digits`);
    return Buffer.from(hex, 'hex');
  } finally {
    closeSync(fd);
  }
}

/**
 * The key at `path`; with `create`, made on first use (atomically: two runs
 * starting at once end up with the same key). Throws JournalKeyError.
 */
export function journalKey(opts: { create: boolean; path?: string } = { create: false }): Buffer | undefined {
  const path = opts.path ?? journalKeyPath();
  const hit = cache.get(path);
  if (hit) return hit;
  let key = readKey(path);
  if (!key && opts.create) {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
      try {
        linkSync(tmp, path); // fails with EEXIST if another process made it first: then use theirs
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        unlinkSync(tmp);
      }
    } catch (e) {
      throw new JournalKeyError(`cannot create the journal key ${path}: ${(e as Error).message} (set FAULTLINE_JOURNAL_KEY to a writable path)`);
    }
    key = readKey(path);
  }
  if (key) cache.set(path, key);
  return key;
}

/** JSON with object keys sorted at every level: the same content always signs the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** HMAC-SHA256 of a line's content (every field but `mac`), hex. */
export function signLine(key: Buffer, line: Record<string, unknown>): string {
  const { mac: _mac, ...content } = line;
  return createHmac('sha256', key).update(canonical(content)).digest('hex');
}

export function verifyLine(key: Buffer, line: Record<string, unknown>): boolean {
  const mac = line.mac;
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return false;
  return timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(signLine(key, line), 'hex'));
}
