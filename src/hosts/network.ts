/**
 * Hosts: a managed service replica running in its own network namespace,
 * with its own loopback and a veth link to the root namespace, so that link
 * can lose packets, go down, be cut off from another host or throttled, and
 * its resolver can lie — while the load and the other services still reach it
 * at 127.0.0.1:<port> as before.
 *
 *   root namespace                         host namespace (faultline-<id>-payment-0)
 *   127.0.0.1:4001 ──DNAT──▶ 169.254.a.2:4001 ──DNAT──▶ 127.0.0.1:4001 (the service)
 *   169.254.a.1 (fl<id>r0) ◀──── veth ────▶ 169.254.a.2 (fl<id>n0), default route via .1
 *   127.0.0.1:<any other port> ◀──DNAT── 169.254.a.1 ◀──DNAT── 127.0.0.1:<any other port>
 *   169.254.a.1:53 — faultline's DNS responder, the host's only nameserver
 *
 * Connections are translated by the kernel (nftables NAT in a table per run
 * in the root namespace and one per host), not relayed: a refused connection
 * stays a refused connection. Host-to-host traffic is forwarded between the
 * two veths (forwarding on those two interfaces only), so it keeps the real
 * source address and a partition can cut exactly it. Addresses are link-local
 * /30s (169.254.1.0–169.254.254.255) not in use on the machine.
 *
 * Everything is journalled before it is made (an `argv` undo that treats
 * "already gone" as done), and a recover watchdog undoes the journal if
 * faultline is killed.
 */
import { mkdir, writeFile, rm } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import type { Journal, JournalEntry } from '../faults/types.ts';
import { DnsResponder } from './dns.ts';
import type { Host, HostRegistry, HostSpec } from './types.ts';
import { run, nft } from './tools.ts';
import { armRecoverWatchdog, type Watchdog } from '../faults/watchdog.ts';

const UNDO_MS = 10_000;
/** Output of an undo that found nothing left to undo. */
const GONE = 'No such file or directory|Cannot find device|does not exist|No such device|Cannot open network namespace';

let networks = 0;

/** A journal entry whose undo is a program run without a shell. */
function argvUndo(fault: string, argv: string[]): Omit<JournalEntry, 'id' | 'at'> {
  return { fault, kind: 'host', undo: { type: 'argv', argv, timeoutMs: UNDO_MS, gone: GONE } };
}

/** Link-local /30 bases in use on the root namespace (from `ip -4 -o addr`). */
async function linkLocalInUse(): Promise<Set<number>> {
  const out = await run(['ip', '-4', '-o', 'addr', 'show']);
  const used = new Set<number>();
  for (const m of out.matchAll(/inet 169\.254\.(\d+)\.(\d+)\//g)) used.add((Number(m[1]) << 8) | (Number(m[2]) & 0xfc));
  return used;
}

export class HostNetwork implements HostRegistry {
  /** Short id in every name this network makes: pid in base 36 and a sequence number. */
  readonly id: string;
  readonly table: string;
  private readonly hosts: Host[] = [];
  /** What was journalled for removal, made or not yet (a failed create leaves part of it). */
  private readonly made: { ns: string; rootIf: string }[] = [];
  private readonly journal?: Journal;
  private readonly journalIds: string[] = [];
  private watchdog?: Watchdog;
  private closed?: Promise<void>;
  private adding: Promise<unknown> = Promise.resolve();

  constructor(opts: { journal?: Journal } = {}) {
    this.journal = opts.journal;
    this.id = `${process.pid.toString(36)}${(networks++).toString(36)}`;
    this.table = `faultline-${this.id}`;
  }

  of(service: string): Host[] {
    return this.hosts.filter((h) => h.service === service).sort((a, b) => a.replica - b.replica);
  }

  all(): Host[] {
    return [...this.hosts];
  }

  private async record(entry: Omit<JournalEntry, 'id' | 'at'>): Promise<void> {
    if (this.journal) this.journalIds.push(await this.journal.record(entry));
  }

  /** Creates the host for a replica (one at a time, so addresses and names never collide). */
  add(service: string, replica: number, ports: number[], spec: HostSpec): Promise<Host> {
    const p = this.adding.then(() => this.create(service, replica, ports, spec));
    this.adding = p.catch(() => {});
    return p;
  }

  private async create(service: string, replica: number, ports: number[], spec: HostSpec): Promise<Host> {
    if (this.closed) throw new Error('the host network is closed');
    const n = this.hosts.length;
    const ns = `faultline-${this.id}-${service.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 24)}-${replica}`;
    const rootIf = `fl${this.id}r${n}`;
    const nsIf = `fl${this.id}n${n}`;
    const used = await linkLocalInUse();
    let base = 0;
    for (let tries = 0; tries < 1000 && (base === 0 || used.has(base)); tries++) base = (randomInt(1, 255) << 8) | (randomInt(0, 64) << 2);
    const [a, b] = [base >> 8, base & 0xff];
    const rootAddress = `169.254.${a}.${b + 1}`;
    const address = `169.254.${a}.${b + 2}`;

    if (n === 0) {
      // The root table and the watchdog come first: everything after can be undone without us.
      if (this.journal) this.watchdog = armRecoverWatchdog(this.journal.path);
      await this.record(argvUndo(`network ${this.id}`, ['nft', 'delete', 'table', 'ip', this.table]));
    }
    const label = `host ${service}[${replica}]`;
    await this.record(argvUndo(label, ['rm', '-rf', `/etc/netns/${ns}`]));
    await this.record(argvUndo(label, ['ip', 'netns', 'delete', ns]));
    await this.record(argvUndo(label, ['ip', 'link', 'delete', rootIf]));
    this.made.push({ ns, rootIf });

    await run(['ip', 'netns', 'add', ns]);
    // `ip netns exec` bind-mounts this over /etc/resolv.conf for the service.
    await mkdir(`/etc/netns/${ns}`, { recursive: true });
    await writeFile(`/etc/netns/${ns}/resolv.conf`, `# faultline: the DNS responder of ${label}\nnameserver ${rootAddress}\n`);
    await run(['ip', 'link', 'add', rootIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns]);
    await run(['ip', 'addr', 'add', `${rootAddress}/30`, 'dev', rootIf]);
    // Loopback-sourced connections may leave through this link (they are SNATed), and
    // traffic between two hosts is forwarded: on faultline's own interfaces only.
    for (const key of ['route_localnet', 'forwarding']) await writeFile(`/proc/sys/net/ipv4/conf/${rootIf}/${key}`, '1');
    await run(['ip', 'link', 'set', rootIf, 'up']);
    const inNs = ['ip', '-n', ns];
    await run([...inNs, 'link', 'set', 'lo', 'up']);
    await run([...inNs, 'addr', 'add', `${address}/30`, 'dev', nsIf]);
    await run([...inNs, 'link', 'set', nsIf, 'up']);
    await run([...inNs, 'route', 'add', 'default', 'via', rootAddress]);
    await run(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.route_localnet=1', `net.ipv4.conf.${nsIf}.route_localnet=1`]);
    const own = ports.length ? `tcp dport != { ${ports.join(', ')} } ` : 'meta l4proto tcp ';
    await nft(
      ns,
      `table ip faultline {
  chain pre { type nat hook prerouting priority -100; policy accept;${ports.length ? ` iifname "${nsIf}" tcp dport { ${ports.join(', ')} } dnat to 127.0.0.1;` : ''} }
  chain out { type nat hook output priority -100; policy accept; ip daddr 127.0.0.1 ${own}dnat to ${rootAddress}; }
  chain post { type nat hook postrouting priority 100; policy accept; oifname "${nsIf}" ip saddr 127.0.0.0/8 snat to ${address}; }
}
`,
    );
    const dns = new DnsResponder(rootAddress, spec.names);
    const host: Host = { service, replica, ns, rootIf, rootAddress, nsIf, address, ports, dns };
    this.hosts.push(host);
    await dns.start();
    await this.loadRootTable();
    return host;
  }

  /** The run's root table, rebuilt atomically from every host (one `nft -f` transaction). */
  private async loadRootTable(): Promise<void> {
    const ifs = this.hosts.map((h) => `"${h.rootIf}"`).join(', ');
    const addrs = this.hosts.map((h) => h.rootAddress).join(', ');
    const out: string[] = [];
    const pre: string[] = [];
    const post: string[] = [];
    for (const h of this.hosts) {
      for (const p of h.ports) {
        out.push(`ip daddr 127.0.0.1 tcp dport ${p} dnat to ${h.address};`);
        pre.push(`iifname { ${ifs} } ip daddr { ${addrs} } tcp dport ${p} dnat to ${h.address};`);
      }
      post.push(`oifname "${h.rootIf}" ip saddr 127.0.0.0/8 snat to ${h.rootAddress};`);
    }
    // Any other TCP port a host calls on its side of the link is the root namespace's loopback.
    pre.push(`iifname { ${ifs} } ip daddr { ${addrs} } meta l4proto tcp dnat to 127.0.0.1;`);
    const chain = (name: string, hook: string, prio: number, rules: string[]) =>
      `  chain ${name} { type nat hook ${hook} priority ${prio}; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
    await nft(
      undefined,
      `table ip ${this.table} {}\ndelete table ip ${this.table}\ntable ip ${this.table} {\n${chain('out', 'output', -100, out)}${chain('pre', 'prerouting', -100, pre)}${chain('post', 'postrouting', 100, post)}}\n`,
    );
  }

  /** Removes every host, the root table and the resolver files; clears the journal. Never throws. */
  close(): Promise<void> {
    return (this.closed ??= (async () => {
      await this.adding;
      for (const h of this.hosts) await h.dns.close().catch(() => {});
      const quiet = (argv: string[]) => run(argv).catch(() => undefined);
      for (const h of [...this.made].reverse()) {
        await quiet(['ip', 'link', 'delete', h.rootIf]);
        await quiet(['ip', 'netns', 'delete', h.ns]);
        await rm(`/etc/netns/${h.ns}`, { recursive: true, force: true }).catch(() => {});
      }
      if (this.made.length) await quiet(['nft', 'delete', 'table', 'ip', this.table]);
      for (const id of this.journalIds.splice(0).reverse()) await this.journal?.clear(id).catch(() => {});
      this.watchdog?.disarm();
    })());
  }
}
