/**
 * `link-down`: a host's interface down for the duration (`ip link set down`
 * inside its namespace), then up again with its addresses and routes as they
 * were: the kernel drops the routes through a link that goes down, so they
 * are read before and put back after. Measured: how long the link was down
 * (from the interface's own state) and how many packets were sent towards
 * the host meanwhile (root side of the link, an nft counter), all of them lost.
 *
 *   - { kind: link-down, target: payment, at: 10s, duration: 5s }
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { FaultTable, count, recordUndo, targetHosts } from '../../hosts/rules.ts';
import { run } from '../../hosts/tools.ts';
import type { Host } from '../../hosts/types.ts';

const params = z.strictObject({});

interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  protocol?: string;
  scope?: string;
}

interface Down {
  host: Host;
  routes: Route[];
  addrs: string[];
  journalIds: string[];
  counter: FaultTable;
  downAt?: number;
  upAt?: number;
}

const ipJson = async (argv: string[]) => JSON.parse((await run(argv)).trim() || '[]') as unknown[];

async function operstate(h: Host): Promise<string> {
  const [link] = (await ipJson(['ip', '-n', h.ns, '-j', 'link', 'show', 'dev', h.nsIf])) as { operstate?: string; flags?: string[] }[];
  return link?.flags?.includes('UP') ? (link.operstate ?? 'UNKNOWN') : 'DOWN';
}

async function addresses(h: Host): Promise<string[]> {
  const [a] = (await ipJson(['ip', '-n', h.ns, '-j', 'addr', 'show', 'dev', h.nsIf])) as { addr_info?: { family: string; local: string; prefixlen: number }[] }[];
  return (a?.addr_info ?? []).filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`).sort();
}

/** The `ip route replace` arguments that put a route back as it was. */
function routeArgs(r: Route): string[] {
  const a = [r.dst];
  if (r.gateway) a.push('via', r.gateway);
  if (r.dev) a.push('dev', r.dev);
  if (r.protocol && r.protocol !== 'boot') a.push('proto', r.protocol);
  if (r.scope && r.scope !== 'global') a.push('scope', r.scope);
  if (r.prefsrc) a.push('src', r.prefsrc);
  return a;
}

class LinkDown implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private downs: Down[] = [];
  private result?: { downMs: number[]; packets: number; restored: boolean };

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    params.parse(spec.params);
  }

  async start(): Promise<number> {
    for (const host of targetHosts(this.spec, this.ctx)) {
      const routes = ((await ipJson(['ip', '-n', host.ns, '-j', 'route', 'show'])) as Route[]).filter((r) => r.dev === host.nsIf);
      const d: Down = { host, routes, addrs: await addresses(host), journalIds: [], counter: new FaultTable(undefined) };
      this.downs.push(d);
      // Undo recorded first, replayed in reverse: the link up, then its routes.
      for (const r of routes.filter((r) => r.protocol !== 'kernel')) {
        d.journalIds.push(await recordUndo(this.ctx, this.spec, ['ip', '-n', host.ns, 'route', 'replace', ...routeArgs(r)]));
      }
      d.journalIds.push(await recordUndo(this.ctx, this.spec, ['ip', '-n', host.ns, 'link', 'set', 'dev', host.nsIf, 'up']));
      await d.counter.load(
        this.ctx,
        this.spec,
        // Postrouting sees the device a packet really leaves by (output still names "lo" for
        // connections to 127.0.0.1 that NAT sent here), and sees forwarded packets too.
        `  counter toward_host { }\n  chain to_host { type filter hook postrouting priority 0; policy accept; oifname "${host.rootIf}" counter name "toward_host"; }`,
      );
    }
    for (const d of this.downs) {
      await run(['ip', '-n', d.host.ns, 'link', 'set', 'dev', d.host.nsIf, 'down']);
      d.downAt = Date.now();
    }
    this.ctx.log(`${this.spec.name}: link down on ${this.downs.map((d) => d.host.ns).join(', ')}`);
    return performance.timeOrigin + performance.now();
  }

  async stop(): Promise<number | void> {
    const downs = this.downs.splice(0);
    if (downs.length === 0) return;
    let packets = 0;
    let restored = true;
    const downMs: number[] = [];
    for (const d of downs) {
      const { host } = d;
      await run(['ip', '-n', host.ns, 'link', 'set', 'dev', host.nsIf, 'up']);
      // The link is back when the kernel says so (a veth's carrier follows at once, but wait for it).
      for (let i = 0; i < 100 && (await operstate(host)) !== 'UP'; i++) await sleep(10);
      d.upAt = Date.now();
      // Neighbour entries that failed while the link was down would answer "host unreachable"
      // for seconds more: forget them on both sides, so the link is really back.
      await run(['ip', 'neigh', 'flush', 'dev', host.rootIf]).catch(() => {});
      await run(['ip', '-n', host.ns, 'neigh', 'flush', 'dev', host.nsIf]).catch(() => {});
      const now = (await ipJson(['ip', '-n', host.ns, '-j', 'route', 'show'])) as Route[];
      for (const r of d.routes) {
        if (!now.some((x) => x.dst === r.dst && x.gateway === r.gateway && x.dev === r.dev)) await run(['ip', '-n', host.ns, 'route', 'replace', ...routeArgs(r)]);
      }
      const after = await addresses(host);
      if (after.join() !== d.addrs.join()) restored = false;
      try {
        packets += (await d.counter.counters()).toward_host?.packets ?? 0;
      } catch {
        /* the counter never loaded */
      }
      await d.counter.remove(this.ctx);
      for (const id of d.journalIds.reverse()) await this.ctx.journal.clear(id);
      if (d.downAt !== undefined) downMs.push(d.upAt - d.downAt);
    }
    this.result = { downMs, packets, restored };
    return performance.timeOrigin + performance.now();
  }

  detail(): Record<string, unknown> {
    const m = this.result;
    return m ? { setting: 'link down', downMs: m.downMs, packetsLost: m.packets, restored: m.restored } : { setting: 'link down' };
  }

  measured(): MeasuredEffect | undefined {
    const m = this.result;
    if (!m) return undefined;
    return {
      summary: `link down ${m.downMs.map((x) => `${(x / 1000).toFixed(2)} s`).join(', ')}: ${count(m.packets)} packets sent toward it lost${m.restored ? '' : '; ADDRESSES NOT RESTORED'}`,
      values: { packetsLost: m.packets, downMs: Math.max(0, ...m.downMs), restored: m.restored ? 1 : 0 },
      noEffect: m.packets === 0,
    };
  }
}

export const linkDown: FaultKind = {
  name: 'link-down',
  params,
  targets: 'host',
  describe: 'takes a host\'s interface down for the duration; addresses and routes restored after; measures downtime and the packets sent toward it meanwhile',
  create: (spec, ctx) => new LinkDown(spec, ctx),
};
