/**
 * The built-in proxy's fault kinds, derived from its toxics (src/proxy/toxics)
 * and HTTP faults (src/proxy/http): one kind per toxic that declares a `fault`,
 * named after it, needing the proxy mode whose table holds it (`any` when both
 * do). Adding a toxic with a `fault` adds its fault kind; nothing here changes.
 *
 * `probability` becomes the toxic's toxicity: per connection for TCP kinds,
 * per request for HTTP kinds.
 */
import type { Fault, FaultContext, FaultKind, FaultSpecBase } from '../types.ts';
import type { ProxyHandle, StreamDirection } from '../../proxy/types.ts';
import type { ToxicFactory, ToxicFault } from '../../proxy/base.ts';
import { toxicTypes } from '../../proxy/toxics/index.ts';
import { httpFaultTypes } from '../../proxy/http/index.ts';

/** Whether a proxy of mode `actual` takes a kind that needs `wanted`: a tls proxy forwards plaintext through the TCP toxics. */
export function proxyModeFits(wanted: 'tcp' | 'http' | 'tls' | 'any', actual: string): boolean {
  return wanted === 'any' || wanted === actual || (wanted === 'tcp' && actual === 'tls');
}

const withoutStream = ({ stream: _s, ...rest }: Record<string, unknown>) => rest;

/** A fault that adds one toxic to a built-in proxy on start() and removes it on stop(). */
export function proxyFaultKind(type: string, fault: ToxicFault, mode: 'tcp' | 'http' | 'any'): FaultKind {
  const toAttributes = fault.toAttributes ?? withoutStream;
  return {
    name: type,
    params: fault.params,
    targets: 'proxy',
    proxyMode: mode,
    describe: fault.describe,
    create(spec: FaultSpecBase, ctx: FaultContext): Fault {
      let added: { proxy: ProxyHandle; name: string } | undefined;
      let effect: Record<string, number> | undefined;
      return {
        spec,
        measured() {
          if (!effect) return undefined;
          const { hits, ...own } = effect;
          const unit = mode === 'http' ? 'request' : 'connection';
          const extra = Object.entries(own).map(([k, v]) => `${k} ${v}`).join(', ');
          return {
            summary: `hit ${hits} ${unit}${hits === 1 ? '' : 's'}${extra ? ` (${extra})` : ''}`,
            values: effect,
            // A toxic that counts its own effect (body-patch: responses patched) says whether it had one.
            noEffect: 'patched' in own ? own.patched === 0 : hits === 0,
          };
        },
        async start() {
          const proxy = spec.target === undefined ? undefined : ctx.proxies.get(spec.target);
          if (!proxy) throw new Error(`fault "${spec.name}": no proxy named ${JSON.stringify(spec.target)} (declare it under proxies)`);
          if (!proxyModeFits(mode, proxy.mode)) throw new Error(`fault "${spec.name}": kind ${type} needs a ${mode} proxy; proxy "${proxy.name}" is mode ${proxy.mode}`);
          // Unique per fault instance, so two faults on one proxy never collide.
          let name = `faultline:${spec.name}`;
          for (let i = 2; proxy.toxics().some((t) => t.name === name); i++) name = `faultline:${spec.name}#${i}`;
          // Recorded before it takes effect: stop() can undo even a start() that failed half-way.
          added = { proxy, name };
          await proxy.addToxic({ name, type, stream: spec.params.stream as StreamDirection | undefined, toxicity: spec.probability ?? 1, attributes: toAttributes(spec.params) });
          ctx.log(`proxy ${proxy.name}: added ${type} toxic ${name}`);
        },
        async stop() {
          const a = added;
          if (!a) return;
          added = undefined;
          // Read before removal: the counts live with the toxic.
          effect = a.proxy.toxicEffect(a.name) ?? effect;
          if (await a.proxy.removeToxic(a.name)) ctx.log(`proxy ${a.proxy.name}: removed ${type} toxic ${a.name}`);
        },
      };
    },
  };
}

function derive(tcp: Record<string, ToxicFactory<unknown>>, http: Record<string, ToxicFactory<unknown>>): FaultKind[] {
  const kinds: FaultKind[] = [];
  for (const name of new Set([...Object.keys(tcp), ...Object.keys(http)])) {
    const fault = tcp[name]?.fault ?? http[name]?.fault;
    if (!fault) continue;
    const mode = name in tcp && name in http ? 'any' : name in tcp ? 'tcp' : 'http';
    kinds.push(proxyFaultKind(name, fault, mode));
  }
  return kinds;
}

/** Every built-in proxy fault kind. */
export const proxyFaultKinds: readonly FaultKind[] = derive(toxicTypes, httpFaultTypes);
