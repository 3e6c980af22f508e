/**
 * `packet-loss`: drops a share of the packets on a host's link, at random,
 * per direction — an nftables rule in the host's namespace
 * (`numgen random mod 10000 < N drop`), which works on kernels without netem
 * and in both directions. The loss is measured from the rule's own counters
 * (packets seen, packets dropped), per direction.
 *
 *   - { kind: packet-loss, target: payment, loss: 20%, direction: both, duration: 10s }
 *
 * `inbound` is what reaches the host (requests to it, answers to its calls),
 * `outbound` what it sends.
 */
import { z } from 'zod';
import { zPercent } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { FaultTable, count, pct, targetHosts } from '../../hosts/rules.ts';
import type { Host } from '../../hosts/types.ts';

const params = z.strictObject({
  /** Share of packets dropped, e.g. "20%". */
  loss: zPercent.refine((f) => f > 0 && f <= 1, { message: 'expected a loss between 0% and 100% (exclusive of 0)' }),
  direction: z.enum(['both', 'inbound', 'outbound']).default('both'),
});

type Dir = 'inbound' | 'outbound';
type Measured = Record<Dir, { packets: number; dropped: number }>;

class PacketLoss implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly params: z.output<typeof params>;
  private tables: { host: Host; table: FaultTable }[] = [];
  private result?: Measured;
  private hostNames: string[] = [];

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.params = params.parse(spec.params);
  }

  private dirs(): Dir[] {
    return this.params.direction === 'both' ? ['inbound', 'outbound'] : [this.params.direction];
  }

  async start(): Promise<void> {
    const threshold = Math.round(this.params.loss * 10_000);
    for (const host of targetHosts(this.spec, this.ctx)) {
      const table = new FaultTable(host.ns);
      this.tables.push({ host, table });
      this.hostNames.push(host.ns);
      // Before NAT on the way in, after it on the way out: every packet on the link, once.
      const chains = this.dirs().map((d) =>
        d === 'inbound'
          ? `  chain inbound { type filter hook prerouting priority -300; policy accept; iifname "${host.nsIf}" counter name "inbound_seen" numgen random mod 10000 < ${threshold} counter name "inbound_dropped" drop; }`
          : `  chain outbound { type filter hook postrouting priority 300; policy accept; oifname "${host.nsIf}" counter name "outbound_seen" numgen random mod 10000 < ${threshold} counter name "outbound_dropped" drop; }`,
      );
      const counters = this.dirs().flatMap((d) => [`  counter ${d}_seen { }`, `  counter ${d}_dropped { }`]);
      await table.load(this.ctx, this.spec, [...counters, ...chains].join('\n'));
    }
    this.ctx.log(`${this.spec.name}: ${pct(this.params.loss)} loss (${this.params.direction}) on ${this.hostNames.join(', ')}`);
  }

  async stop(): Promise<void> {
    const m: Measured = { inbound: { packets: 0, dropped: 0 }, outbound: { packets: 0, dropped: 0 } };
    let read = this.tables.length > 0;
    for (const { table } of this.tables) {
      try {
        const c = await table.counters();
        for (const d of this.dirs()) {
          m[d].packets += c[`${d}_seen`]?.packets ?? 0;
          m[d].dropped += c[`${d}_dropped`]?.packets ?? 0;
        }
      } catch {
        read = false; // the table never loaded (a failed start)
      }
    }
    if (read) this.result = m;
    const tables = this.tables.splice(0);
    for (const { table } of tables) await table.remove(this.ctx);
  }

  private totals(m: Measured): { packets: number; dropped: number } {
    const dirs = this.dirs();
    return { packets: dirs.reduce((s, x) => s + m[x].packets, 0), dropped: dirs.reduce((s, x) => s + m[x].dropped, 0) };
  }

  detail(): Record<string, unknown> {
    const m = this.result;
    const d: Record<string, unknown> = { method: 'nftables numgen', setting: `${pct(this.params.loss)} ${this.params.direction}`, hosts: this.hostNames };
    if (!m) return d;
    for (const x of this.dirs()) d[x] = { ...m[x], loss: m[x].packets ? m[x].dropped / m[x].packets : null };
    const { packets, dropped } = this.totals(m);
    d.measuredLoss = packets ? dropped / packets : null;
    return d;
  }

  measured(): MeasuredEffect | undefined {
    const m = this.result;
    if (!m) return undefined;
    const { packets, dropped } = this.totals(m);
    const set = `${pct(this.params.loss)} ${this.params.direction} set`;
    return {
      summary: packets ? `${set}: ${pct(dropped / packets)} lost (${count(dropped)} of ${count(packets)} packets)` : `${set}: no packets crossed the link`,
      values: { packets, dropped, ...Object.fromEntries(this.dirs().flatMap((x) => [[`${x}Packets`, m[x].packets], [`${x}Dropped`, m[x].dropped]])) },
      noEffect: dropped === 0,
    };
  }
}

export const packetLoss: FaultKind = {
  name: 'packet-loss',
  params,
  targets: 'host',
  describe: 'drops a share of the packets on a host\'s link, per direction (nftables numgen); measured from the rule\'s counters',
  create: (spec, ctx) => new PacketLoss(spec, ctx),
};
