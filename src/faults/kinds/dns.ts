/**
 * `dns`: the target host's resolver (faultline's DNS responder, which its
 * /etc/netns/<ns>/resolv.conf names) answers the names matching `names`
 * wrongly for the duration:
 *
 *   nxdomain       the name does not exist
 *   servfail       the server failed
 *   timeout        no answer at all (the client's resolver waits and retries)
 *   wrong-address  `address` (default 127.0.0.2: nothing listens there) instead of the mapped one
 *   slow           the right answer, `delay` late
 *
 *   - { kind: dns, target: shop, names: ["payment.*"], answer: nxdomain, duration: 5s }
 *
 * Outside the fault (and for names not matching) the responder answers with
 * the mapping the scenario gives in the host's `names`. Measured: the queries
 * that matched and the answers served, by kind; a fault that saw no query
 * had no effect (a client with its connections already open never asks).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase, MeasuredEffect } from '../types.ts';
import { targetHosts, count } from '../../hosts/rules.ts';
import { DNS_ANSWERS, type DnsRule } from '../../hosts/dns.ts';

const params = z
  .strictObject({
    answer: z.enum(DNS_ANSWERS),
    /** Glob patterns of the names affected ("payment.*"); default every name. */
    names: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default(['*']).transform((n) => (typeof n === 'string' ? [n] : n)),
    /** For wrong-address. */
    address: z
      .string()
      .refine((a) => (isIPv4(a) && (a.startsWith('127.') || a.startsWith('169.254.'))) || (isIPv6(a) && a === '::1'), { message: 'expected a loopback or link-local (169.254.x.x) address' })
      .default('127.0.0.2'),
    /** For slow. */
    delay: zDuration.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.answer === 'slow' && p.delay === undefined) ctx.addIssue({ code: 'custom', path: ['delay'], message: '`answer: slow` needs a `delay` like "2s"' });
    if (p.answer !== 'slow' && p.delay !== undefined) ctx.addIssue({ code: 'custom', path: ['delay'], message: '`delay` applies to `answer: slow` only' });
  });

class DnsFault implements Fault {
  readonly spec: FaultSpecBase;
  private readonly ctx: FaultContext;
  private readonly params: z.output<typeof params>;
  private rules: DnsRule[] = [];
  private removers: (() => void)[] = [];

  constructor(spec: FaultSpecBase, ctx: FaultContext) {
    this.spec = spec;
    this.ctx = ctx;
    this.params = params.parse(spec.params);
  }

  async start(): Promise<void> {
    const { answer, names, address, delay } = this.params;
    // In faultline's own process: nothing outside it to journal (the responder dies with it).
    for (const host of targetHosts(this.spec, this.ctx)) {
      const rule: DnsRule = { names, answer, address, delayMs: delay, probability: this.spec.probability, random: this.ctx.random, matched: 0, served: {} };
      this.rules.push(rule);
      this.removers.push(host.dns.addRule(rule));
    }
  }

  async stop(): Promise<void> {
    for (const remove of this.removers.splice(0)) remove();
  }

  private served(): { matched: number; served: Record<string, number> } {
    const served: Record<string, number> = {};
    for (const r of this.rules) for (const [k, v] of Object.entries(r.served)) served[k] = (served[k] ?? 0) + v;
    return { matched: this.rules.reduce((s, r) => s + r.matched, 0), served };
  }

  detail(): Record<string, unknown> {
    const { answer, names } = this.params;
    return { setting: `${answer} for ${names.join(', ')}`, queries: this.served().matched, served: this.served().served };
  }

  measured(): MeasuredEffect {
    const { answer, names } = this.params;
    const { matched, served } = this.served();
    const set = `${answer} for ${names.join(', ')}`;
    return {
      summary: matched ? `${set}: ${count(matched)} queries matched, ${Object.entries(served).map(([k, v]) => `${count(v)} ${k}`).join(', ')}` : `${set}: no query matched`,
      values: { queries: matched, ...served },
      noEffect: (served[answer] ?? 0) === 0,
    };
  }
}

export const dns: FaultKind = {
  name: 'dns',
  params,
  targets: 'host',
  describe: 'a host\'s resolver answers matching names with NXDOMAIN, SERVFAIL, nothing (timeout), a wrong address, or late; counts the answers served by kind',
  create: (spec, ctx) => new DnsFault(spec, ctx),
};
