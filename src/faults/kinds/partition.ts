/**
 * `partition`: drops the traffic between a host and a peer host, or between a
 * host and everything outside it, both ways or one way.
 *
 *   - { kind: partition, target: shop, peer: payment, duration: 5s }            # shop ↔ payment
 *   - { kind: partition, target: payment, direction: inbound, duration: 5s }    # nothing reaches payment; its packets still leave
 *
 * Between two hosts the rule sits in the root namespace's forward path, where
 * packets between hosts keep their real addresses (host A → host B is
 * `ip saddr A ip daddr B`), so it cuts exactly that pair and both keep
 * serving everyone else. Without `peer` it sits on the host's link, in its
 * namespace. `direction` is seen from the target: `outbound` drops what it
 * sends to the peer, `inbound` what it receives from it. Each dropping rule
 * counts what it dropped.
 */
import { z } from 'zod';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { FaultTable, count, targetHosts } from '../../hosts/rules.ts';
import type { Host } from '../../hosts/types.ts';

const params = z.strictObject({
  /** Another service running as its own host; omitted: everything beyond the target's link. */
  peer: z.string().min(1).optional(),
  direction: z.enum(['both', 'inbound', 'outbound']).default('both'),
});

class Partition implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly params: z.output<typeof params>;
  private tables: FaultTable[] = [];
  private result?: { inbound: number; outbound: number };
  private between = '';

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.params = params.parse(spec.params);
  }

  async start(): Promise<void> {
    const { peer, direction } = this.params;
    const hosts = targetHosts(this.spec, this.ctx);
    const inbound = direction !== 'outbound';
    const outbound = direction !== 'inbound';
    const counters = '  counter inbound { }\n  counter outbound { }';
    if (peer !== undefined) {
      const peers = targetHosts(this.spec, this.ctx, peer);
      if (peers.some((p) => hosts.includes(p))) throw new Error(`partition: peer ${peer} is the target itself`);
      const rules: string[] = [];
      const pair = (a: Host, b: Host, counter: string) => `    ip saddr ${a.address} ip daddr ${b.address} counter name "${counter}" drop`;
      for (const h of hosts) {
        for (const p of peers) {
          if (outbound) rules.push(pair(h, p, 'outbound'));
          if (inbound) rules.push(pair(p, h, 'inbound'));
        }
      }
      const table = new FaultTable(undefined);
      this.tables.push(table);
      await table.load(this.ctx, this.spec, `${counters}\n  chain between_hosts { type filter hook forward priority -10; policy accept;\n${rules.join('\n')}\n  }`);
      this.between = `${this.spec.target} ${direction === 'both' ? '↔' : direction === 'outbound' ? '→' : '←'} ${peer}`;
    } else {
      for (const h of hosts) {
        const table = new FaultTable(h.ns);
        this.tables.push(table);
        const chains: string[] = [];
        if (inbound) chains.push(`  chain link_in { type filter hook prerouting priority -300; policy accept; iifname "${h.nsIf}" counter name "inbound" drop; }`);
        if (outbound) chains.push(`  chain link_out { type filter hook postrouting priority 300; policy accept; oifname "${h.nsIf}" counter name "outbound" drop; }`);
        await table.load(this.ctx, this.spec, `${counters}\n${chains.join('\n')}`);
      }
      this.between = `${this.spec.target} ${direction === 'both' ? '↔' : direction === 'outbound' ? '→' : '←'} outside`;
    }
    this.ctx.log(`${this.spec.name}: partition ${this.between}`);
  }

  async stop(): Promise<void> {
    const tables = this.tables.splice(0);
    if (tables.length === 0) return;
    const m = { inbound: 0, outbound: 0 };
    let read = true;
    for (const t of tables) {
      try {
        const c = await t.counters();
        m.inbound += c.inbound?.packets ?? 0;
        m.outbound += c.outbound?.packets ?? 0;
      } catch {
        read = false;
      }
    }
    if (read) this.result = m;
    for (const t of tables) await t.remove(this.ctx);
  }

  detail(): Record<string, unknown> {
    const m = this.result;
    return { setting: `partition ${this.between}`, ...(m ? { droppedInbound: m.inbound, droppedOutbound: m.outbound } : {}) };
  }

  measured(): MeasuredEffect | undefined {
    const m = this.result;
    if (!m) return undefined;
    return {
      summary: `partition ${this.between}: ${count(m.inbound + m.outbound)} packets dropped (${count(m.inbound)} in, ${count(m.outbound)} out)`,
      values: { droppedInbound: m.inbound, droppedOutbound: m.outbound },
      noEffect: m.inbound + m.outbound === 0,
    };
  }
}

export const partition: FaultKind = {
  name: 'partition',
  params,
  targets: 'host',
  describe: 'drops traffic between a host and a `peer` host, or everything beyond its link; both ways or one (`direction`); counts the packets dropped',
  create: (spec, ctx) => new Partition(spec, ctx),
};
