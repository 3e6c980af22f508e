/**
 * `link-bandwidth`: caps a host's link with a token bucket (`tc qdisc tbf`):
 * `outbound` on the host's side of the veth, `inbound` on the root side (a
 * qdisc shapes what an interface sends). The proxy's `bandwidth` caps one
 * proxied connection stream; this caps everything the host sends or receives.
 * Measured from the qdisc's own counters: bytes and packets sent, the rate
 * that achieved over the fault, packets held back (overlimits) and dropped.
 *
 *   - { kind: link-bandwidth, target: payment, rate: 64KB, direction: both, duration: 10s }
 *
 * `rate` is bytes per second: a number is KB/s (as for the proxy's
 * bandwidth), a size string is per second ("1MB" = 1 MB/s).
 */
import { z } from 'zod';
import { parseBytes } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { GONE, count, recordUndo, targetHosts } from '../../hosts/rules.ts';
import { run } from '../../hosts/tools.ts';

const zBytesPerSecond = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bps = typeof v === 'number' ? v * 1000 : (parseBytes(v.replace(/\/s$/i, '')) ?? NaN);
  if (!(bps >= 1000)) {
    ctx.addIssue({ code: 'custom', message: `expected a rate of at least 1 KB/s, like 64 (KB/s) or "1MB/s", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return bps;
});

const params = z.strictObject({
  rate: zBytesPerSecond,
  direction: z.enum(['both', 'inbound', 'outbound']).default('both'),
  /** How long a packet may wait in the bucket's queue before it is dropped (tbf latency). */
  queue: z.union([z.string(), z.number()]).default('100ms'),
});

type Dir = 'inbound' | 'outbound';
interface Qdisc {
  dir: Dir;
  /** `tc` prefix: the host's namespace for outbound, the root one for inbound. */
  tc: string[];
  dev: string;
  journalId?: string;
  added: boolean;
}
interface QStats {
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
}

const QDISC_GONE = `${GONE}|Cannot delete qdisc with handle of zero|Invalid handle`;

async function stats(q: Qdisc): Promise<QStats> {
  const out = await run([...q.tc, '-s', '-j', 'qdisc', 'show', 'dev', q.dev]);
  const all = JSON.parse(out) as ({ kind: string } & QStats)[];
  const t = all.find((x) => x.kind === 'tbf');
  return { bytes: t?.bytes ?? 0, packets: t?.packets ?? 0, drops: t?.drops ?? 0, overlimits: t?.overlimits ?? 0 };
}

/** 123456 → "123.5 KB/s" */
const rate = (bps: number) => (bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} MB/s` : `${(bps / 1e3).toFixed(1)} KB/s`);

class LinkBandwidth implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly params: z.output<typeof params>;
  private qdiscs: Qdisc[] = [];
  private startedAt = 0;
  private result?: { ms: number; byDir: Partial<Record<Dir, QStats>> };

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.params = params.parse(spec.params);
  }

  async start(): Promise<number> {
    const { rate: bps, direction, queue } = this.params;
    const dirs: Dir[] = direction === 'both' ? ['inbound', 'outbound'] : [direction];
    // A bucket of 20 ms at the rate, and never less than two full-size packets (tbf passes nothing larger).
    const burst = Math.max(3028, Math.round(bps / 50));
    for (const host of targetHosts(this.spec, this.ctx)) {
      for (const dir of dirs) {
        const q: Qdisc = dir === 'inbound' ? { dir, tc: ['tc'], dev: host.rootIf, added: false } : { dir, tc: ['tc', '-n', host.ns], dev: host.nsIf, added: false };
        this.qdiscs.push(q);
        q.journalId = await recordUndo(this.ctx, this.spec, [...q.tc, 'qdisc', 'del', 'dev', q.dev, 'root'], QDISC_GONE);
        await run([...q.tc, 'qdisc', 'replace', 'dev', q.dev, 'root', 'tbf', 'rate', `${Math.round(bps)}bps`, 'burst', String(burst), 'latency', String(queue)]);
        q.added = true;
      }
    }
    this.startedAt = performance.now();
    return performance.timeOrigin + this.startedAt;
  }

  async stop(): Promise<void> {
    const qdiscs = this.qdiscs.splice(0);
    if (qdiscs.length === 0) return;
    const ms = performance.now() - this.startedAt;
    const byDir: Partial<Record<Dir, QStats>> = {};
    for (const q of qdiscs) {
      if (q.added) {
        const s = await stats(q).catch(() => undefined);
        if (s) {
          const sum = (byDir[q.dir] ??= { bytes: 0, packets: 0, drops: 0, overlimits: 0 });
          sum.bytes += s.bytes;
          sum.packets += s.packets;
          sum.drops += s.drops;
          sum.overlimits += s.overlimits;
        }
        await run([...q.tc, 'qdisc', 'del', 'dev', q.dev, 'root']).catch((e: Error) => {
          if (!new RegExp(QDISC_GONE).test(e.message)) throw e;
        });
      }
      if (q.journalId) await this.ctx.journal.clear(q.journalId);
    }
    if (this.startedAt) this.result = { ms, byDir };
  }

  detail(): Record<string, unknown> {
    const d: Record<string, unknown> = { method: 'tc tbf', setting: `${rate(this.params.rate)} ${this.params.direction}`, rateBytesPerSecond: this.params.rate };
    const m = this.result;
    if (m) for (const [dir, s] of Object.entries(m.byDir) as [Dir, QStats][]) d[dir] = { ...s, bytesPerSecond: Math.round(s.bytes / (m.ms / 1000)) };
    return d;
  }

  measured(): MeasuredEffect | undefined {
    const m = this.result;
    if (!m) return undefined;
    const parts: string[] = [];
    const values: Record<string, number> = { rateBytesPerSecond: this.params.rate };
    let held = 0;
    for (const [dir, s] of Object.entries(m.byDir) as [Dir, QStats][]) {
      const bps = s.bytes / (m.ms / 1000);
      held += s.overlimits + s.drops;
      Object.assign(values, { [`${dir}BytesPerSecond`]: Math.round(bps), [`${dir}Packets`]: s.packets, [`${dir}HeldBack`]: s.overlimits, [`${dir}Dropped`]: s.drops });
      parts.push(`${dir} ${rate(bps)} (${count(s.packets)} packets, ${count(s.overlimits)} held back, ${count(s.drops)} dropped)`);
    }
    // The bucket never filled: the traffic stayed under the cap and the fault changed nothing.
    return { summary: `${rate(this.params.rate)} cap: ${parts.join('; ')}`, values, noEffect: held === 0 };
  }
}

export const linkBandwidth: FaultKind = {
  name: 'link-bandwidth',
  params,
  targets: 'host',
  describe: 'caps a host\'s link in bytes/s (tc tbf), per direction; measures the bytes/s achieved and the packets held back or dropped',
  create: (spec, ctx) => new LinkBandwidth(spec, ctx),
};
