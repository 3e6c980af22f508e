/**
 * The DNS responder a host's resolver points at (`/etc/netns/<ns>/resolv.conf`
 * names it). It answers with the scenario's mapping (`host.names`), and a dns
 * fault pushes a rule that answers matching names otherwise: NXDOMAIN,
 * SERVFAIL, no answer at all (the resolver times out), a wrong address, or the
 * right answer late. Names the scenario does not map get NXDOMAIN (the host's
 * /etc/hosts still applies first). UDP only, which is what glibc's and Node's
 * resolvers use for answers this small.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';

/** What a dns fault makes the responder answer. */
export const DNS_ANSWERS = ['nxdomain', 'servfail', 'timeout', 'wrong-address', 'slow'] as const;
export type DnsAnswerKind = (typeof DNS_ANSWERS)[number];

/** A fault's rule, with what it served (read by the fault's detail). */
export interface DnsRule {
  /** Glob patterns ("payment.*", "*"), matched case-insensitively against the whole name. */
  names: string[];
  answer: DnsAnswerKind;
  /** For wrong-address: the address served instead. */
  address?: string;
  /** For slow: how late the right answer comes. */
  delayMs?: number;
  /** Per query (toxicity); others get the normal answer. */
  probability?: number;
  random?: () => number;
  /** Queries whose name matched the rule. */
  matched: number;
  /** Answers served by kind: the fault's kind, or `normal` when the probability spared the query. */
  served: Record<string, number>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** "payment.*" → /^payment\..*$/i; `*` matches within and across labels. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.toLowerCase().replace(/\.$/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${body}$`, 'i');
}

export class DnsResponder {
  readonly address: string;
  readonly port: number;
  private readonly names = new Map<string, string>();
  private readonly rules: { rule: DnsRule; re: RegExp[] }[] = [];
  private socket?: dgram.Socket;
  /** Every query seen, and the normal answers (mapped or NXDOMAIN for unmapped names). */
  readonly counts = { queries: 0, mapped: 0, unknown: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(address: string, names: Record<string, string> = {}, port = 53) {
    this.address = address;
    this.port = port;
    for (const [k, v] of Object.entries(names)) this.names.set(k.toLowerCase().replace(/\.$/, ''), v);
  }

  async start(): Promise<void> {
    const s = dgram.createSocket(isIPv6(this.address) ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => this.onQuery(msg, rinfo));
    s.on('error', () => {});
    s.bind(this.port, this.address);
    await Promise.race([once(s, 'listening'), once(s, 'error').then(([e]) => Promise.reject(e))]);
    this.socket = s;
  }

  /** Adds a fault's rule (the newest rule wins where several match); returns its removal. */
  addRule(rule: DnsRule): () => void {
    const entry = { rule, re: rule.names.map(globToRegExp) };
    this.rules.unshift(entry);
    return () => {
      const i = this.rules.indexOf(entry);
      if (i >= 0) this.rules.splice(i, 1);
    };
  }

  private onQuery(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return; // not DNS
    }
    const question = q.questions?.[0];
    if (q.type !== 'query' || !question) return;
    this.counts.queries++;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const hit = this.rules.find((r) => r.re.some((re) => re.test(name)));
    if (hit) {
      const { rule } = hit;
      rule.matched++;
      const spared = rule.probability !== undefined && (rule.random ?? Math.random)() >= rule.probability;
      const kind = spared ? 'normal' : rule.answer;
      rule.served[kind] = (rule.served[kind] ?? 0) + 1;
      if (!spared) return this.faulty(q, question, rule, rinfo);
    }
    this.send(this.normal(q, question), rinfo);
  }

  private faulty(q: dnsPacket.Packet, question: dnsPacket.Question, rule: DnsRule, rinfo: dgram.RemoteInfo): void {
    switch (rule.answer) {
      case 'nxdomain':
        return this.send(this.reply(q, RCODE.NXDOMAIN, []), rinfo);
      case 'servfail':
        return this.send(this.reply(q, RCODE.SERVFAIL, []), rinfo);
      case 'timeout':
        return; // no answer: the client's resolver waits out its timeout and retries
      case 'wrong-address':
        return this.send(this.reply(q, RCODE.NOERROR, this.records(question, rule.address!)), rinfo);
      case 'slow': {
        const answer = this.normal(q, question);
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.send(answer, rinfo);
        }, rule.delayMs ?? 0);
        this.timers.add(t);
        return;
      }
    }
  }

  /** The scenario's mapping: the name's address, NOERROR without records for the other family, NXDOMAIN for unmapped names. */
  private normal(q: dnsPacket.Packet, question: dnsPacket.Question): Buffer {
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const address = this.names.get(name);
    if (address === undefined) {
      this.counts.unknown++;
      return this.reply(q, RCODE.NXDOMAIN, []);
    }
    this.counts.mapped++;
    return this.reply(q, RCODE.NOERROR, this.records(question, address));
  }

  /** TTL 0: no resolver caches an answer, so a fault acts on the very next lookup. */
  private records(question: dnsPacket.Question, address: string): dnsPacket.Answer[] {
    if (question.type === 'A' && isIPv4(address)) return [{ type: 'A', name: question.name, ttl: 0, class: 'IN', data: address }];
    if (question.type === 'AAAA' && isIPv6(address)) return [{ type: 'AAAA', name: question.name, ttl: 0, class: 'IN', data: address }];
    return [];
  }

  private reply(q: dnsPacket.Packet, rcode: number, answers: dnsPacket.Answer[]): Buffer {
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | rcode;
    return dnsPacket.encode({ type: 'response', id: q.id, flags, questions: q.questions, answers });
  }

  private send(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    this.socket?.send(buf, rinfo.port, rinfo.address);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
