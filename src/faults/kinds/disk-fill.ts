/**
 * `disk-fill`: fill the filesystem holding `path` until `leave` is left
 * (bytes, "64MiB", or "5%" of its size), or until it is full (ENOSPC, the
 * default). The filler is one file in `path`'s directory, journalled (an `rm`
 * of it) before its first byte is written; the undo removes it.
 *
 * The root filesystem is refused unless `allowRootFs: true`: filling the disk
 * a machine runs on takes down more than the experiment. Space left is
 * measured with statfs as an unprivileged process sees it (`bavail`), before
 * and after, and reported beside the setting.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, statSync, statfsSync, unlinkSync, writeSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseBytes, parsePercent } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { toMeasured, type FaultEffect } from '../resource.ts';

/** Space to leave: a byte count, or a fraction of the filesystem's size. */
type Leave = { bytes: number } | { fraction: number };

/** "64MiB", 1048576, or "5%" (or, already parsed, the Leave itself). */
const zLeave = z.union([z.string(), z.number(), z.strictObject({ bytes: z.number().min(0) }), z.strictObject({ fraction: z.number().min(0).max(1) })]).transform((v, ctx): Leave => {
  if (typeof v === 'object') return v;
  if (typeof v === 'string' && v.trim().endsWith('%')) {
    const p = parsePercent(v);
    if (p !== undefined && p < 1) return { fraction: p };
  } else {
    const b = parseBytes(v);
    if (b !== undefined) return { bytes: Math.floor(b) };
  }
  ctx.addIssue({ code: 'custom', message: `expected a size like "64MiB" or a percentage like "5%", got ${JSON.stringify(v)}` });
  return z.NEVER;
});

const params = z.strictObject({
  /** A file or directory on the filesystem to fill; the filler goes in this directory (or the file's). */
  path: z.string().min(1),
  /** Space to leave free (default 0: fill until ENOSPC). */
  leave: zLeave.default({ bytes: 0 }),
  /** Allow filling the filesystem / is on. */
  allowRootFs: z.boolean().default(false),
});

type Params = z.output<typeof params>;

const CHUNK = 1 << 20;
const mib = (b: number) => `${(b / (1 << 20)).toFixed(b < 10 << 20 ? 2 : 1)} MiB`;

/** Free space as an unprivileged writer sees it, and the filesystem's size. */
function space(dir: string): { avail: number; size: number } {
  const s = statfsSync(dir);
  return { avail: s.bavail * s.bsize, size: s.blocks * s.bsize };
}

class DiskFillFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly p: Params;
  private dir = '';
  private filler?: string;
  private journalId?: string;
  private before?: { avail: number; size: number };
  private after?: number;
  private atEnd?: number;
  private written = 0;
  private enospc = false;

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.p = params.parse(spec.params);
  }

  async start(): Promise<void> {
    const path = resolve(this.p.path);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) throw new Error(`${path} does not exist`);
    this.dir = st.isDirectory() ? path : dirname(path);
    if (!this.p.allowRootFs && statSync(this.dir).dev === statSync('/').dev) {
      throw new Error(`${this.dir} is on the root filesystem; filling it would starve the whole machine (say allowRootFs: true to do it anyway)`);
    }
    this.before = space(this.dir);
    const leave = 'fraction' in this.p.leave ? Math.floor(this.p.leave.fraction * this.before.size) : this.p.leave.bytes;
    this.filler = join(this.dir, `.faultline-fill-${process.pid}-${randomBytes(3).toString('hex')}`);
    this.journalId = await this.ctx.journal.record({ fault: this.spec.name, kind: this.spec.kind, undo: { type: 'argv', argv: ['rm', '-f', '--', this.filler], timeoutMs: 10_000 } });
    const fd = openSync(this.filler, 'wx', 0o600);
    try {
      const chunk = Buffer.alloc(CHUNK, 0x66);
      // Re-measure as we go: other writers share the filesystem, and blocks are not bytes.
      for (;;) {
        // leave 0 is "until ENOSPC": past bavail too, into blocks reserved for root.
        const want = leave === 0 ? CHUNK : space(this.dir).avail - leave;
        if (want <= 0) break;
        try {
          this.written += writeSync(fd, chunk, 0, Math.min(CHUNK, want));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
            this.enospc = true;
            break;
          }
          throw e;
        }
        // Yield now and then: a big fill must not freeze the run's clock.
        if (this.written % (64 * CHUNK) === 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      closeSync(fd);
    }
    this.after = space(this.dir).avail;
    this.ctx.log(`${this.spec.name}: wrote ${mib(this.written)} to ${this.filler}; ${mib(this.after)} left`);
  }

  async stop(): Promise<void> {
    if (!this.filler) return;
    this.atEnd = space(this.dir).avail;
    if (existsSync(this.filler)) unlinkSync(this.filler);
    this.filler = undefined;
    if (this.journalId) await this.ctx.journal.clear(this.journalId);
  }

  detail(): Record<string, unknown> {
    return this.report().detail;
  }

  measured(): MeasuredEffect {
    return toMeasured(this.report());
  }

  private report(): { detail: Record<string, unknown>; effect: FaultEffect } {
    const leave = this.p.leave;
    const setting = 'fraction' in leave ? `leave ${(leave.fraction * 100).toFixed(1)}%` : leave.bytes === 0 ? 'fill until ENOSPC' : `leave ${mib(leave.bytes)}`;
    const effect: FaultEffect = {
      setting,
      measured:
        this.after === undefined
          ? 'not filled'
          : `wrote ${mib(this.written)}; ${mib(this.after)} left after filling${this.enospc ? ' (ENOSPC)' : ''}${this.atEnd !== undefined ? `, ${mib(this.atEnd)} at the end` : ''}`,
      noEffect: this.written === 0 || undefined,
    };
    const detail = {
      dir: this.dir,
      availBeforeBytes: this.before?.avail,
      sizeBytes: this.before?.size,
      writtenBytes: this.written,
      availAfterBytes: this.after,
      availAtEndBytes: this.atEnd,
      enospc: this.enospc,
    };
    return { detail, effect };
  }
}

export const diskFill: FaultKind = {
  name: 'disk-fill',
  params,
  targets: 'any',
  describe: 'fill the filesystem holding `path` until `leave` (bytes or %) is left, or until ENOSPC; the filler removed at the end (the root filesystem only with allowRootFs)',
  create: (spec, ctx) => new DiskFillFault(spec, ctx),
};
