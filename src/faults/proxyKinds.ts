/**
 * Proxy-backed fault kinds: the built-in proxy's TCP toxics and HTTP faults
 * (target: a proxy from the scenario's `proxies`), and `toxiproxy`, the same
 * toxics through any server with Toxiproxy's REST API.
 *
 * Params are faultline units (durations "800ms", sizes "64KB"; a bare number
 * is ms or bytes), turned here into Toxiproxy's attributes (ms, KB/s, µs, bytes).
 * `probability` becomes the toxic's toxicity: per connection for TCP kinds,
 * per request for HTTP kinds.
 */
import { z } from 'zod';
import { isLoopbackHost, parseBytes, zBytes, zDuration } from '../config/units.ts';
import type { Fault, FaultContext, FaultKind, FaultSpecBase } from './types.ts';
import type { ProxyHandle, StreamDirection } from '../proxy/types.ts';

const zStream = z.enum(['upstream', 'downstream']).optional();
const zMatch = { method: z.string().min(1).optional(), path: z.string().startsWith('/').optional() };

/** A bandwidth: a number is KB/s (Toxiproxy's unit); a size string is per second ("64KB" = 64 KB/s). */
const zRateKBps = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const kbps = typeof v === 'number' ? v : (parseBytes(v.replace(/\/s$/i, '')) ?? NaN) / 1000;
  if (!(kbps > 0)) {
    ctx.addIssue({ code: 'custom', message: `expected a rate in KB/s like 100 or "100KB/s", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return kbps;
});

/** Which proxy mode a kind needs (the config can check a target's mode before the run). */
export const proxyKindMode: Record<string, 'tcp' | 'http' | 'any'> = {
  latency: 'tcp',
  bandwidth: 'tcp',
  down: 'any',
  timeout: 'tcp',
  reset_peer: 'tcp',
  slow_close: 'tcp',
  slicer: 'tcp',
  limit_data: 'tcp',
  'http-error': 'http',
  'http-abort': 'http',
  'http-delay': 'http',
  'malformed-body': 'http',
};

/** A fault that adds one toxic to a built-in proxy on start() and removes it on stop(). */
function builtIn(type: string, params: z.ZodType<Record<string, unknown>>, toAttributes: (p: Record<string, unknown>) => Record<string, unknown>, describe: string): FaultKind {
  const mode = proxyKindMode[type];
  return {
    params,
    targets: 'proxy',
    describe,
    create(spec: FaultSpecBase, ctx: FaultContext): Fault {
      let added: { proxy: ProxyHandle; name: string } | undefined;
      return {
        spec,
        async start() {
          const proxy = spec.target === undefined ? undefined : ctx.proxies.get(spec.target);
          if (!proxy) throw new Error(`fault "${spec.name}": no proxy named ${JSON.stringify(spec.target)} (declare it under proxies)`);
          if (mode !== 'any' && proxy.mode !== mode) throw new Error(`fault "${spec.name}": kind ${type} needs a ${mode} proxy; proxy "${proxy.name}" is mode ${proxy.mode}`);
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
          if (await a.proxy.removeToxic(a.name)) ctx.log(`proxy ${a.proxy.name}: removed ${type} toxic ${a.name}`);
        },
      };
    },
  };
}

const omitStream = ({ stream: _s, ...rest }: Record<string, unknown>) => rest;

/** A loopback http(s) URL for a Toxiproxy API. */
const zLoopbackApi = z.string().superRefine((v, ctx) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a URL like "http://127.0.0.1:8474", got ${JSON.stringify(v)}` });
    return;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `expected an http URL, got ${JSON.stringify(v)}` });
  else if (!isLoopbackHost(u.hostname)) ctx.addIssue({ code: 'custom', message: `${u.host} is not a loopback address (faultline only talks to 127.0.0.1, localhost or [::1])` });
});

const toxiproxyParams = z.strictObject({
  api: zLoopbackApi,
  proxy: z.string().min(1),
  toxic: z.strictObject({
    type: z.string().min(1),
    name: z.string().min(1).optional(),
    stream: zStream,
    toxicity: z.number().min(0).max(1).optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  }),
});

type ToxiproxyParams = z.output<typeof toxiproxyParams>;

/** Calls a Toxiproxy API with a timeout, so an undo can never hang the run. */
async function call(method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, text: await res.text() };
}

const toxiproxy: FaultKind = {
  params: toxiproxyParams,
  targets: 'none',
  describe: 'adds a toxic to a proxy of a Toxiproxy-compatible server (params: api, proxy, toxic) and deletes it at the end',
  create(spec, ctx) {
    const p = spec.params as ToxiproxyParams;
    const base = p.api.replace(/\/+$/, '');
    const toxicsUrl = `${base}/proxies/${encodeURIComponent(p.proxy)}/toxics`;
    const name = p.toxic.name ?? `faultline_${spec.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
    const toxicUrl = `${toxicsUrl}/${encodeURIComponent(name)}`;
    let journalId: string | undefined;
    return {
      spec,
      async start() {
        journalId = await ctx.journal.record({ fault: spec.name, kind: 'toxiproxy', undo: { type: 'http', method: 'DELETE', url: toxicUrl } });
        const body = { name, type: p.toxic.type, stream: p.toxic.stream ?? 'downstream', toxicity: spec.probability ?? p.toxic.toxicity ?? 1, attributes: p.toxic.attributes ?? {} };
        // A network error leaves the journal entry: the toxic may exist, and stop() (or recover) deletes it.
        const r = await call('POST', toxicsUrl, body);
        if (r.status >= 300) {
          const id = journalId;
          journalId = undefined;
          await ctx.journal.clear(id);
          throw new Error(`fault "${spec.name}": ${p.api} refused toxic ${name} on proxy ${p.proxy}: ${r.status} ${r.text.trim()}`);
        }
        ctx.log(`toxiproxy ${p.api}: added ${p.toxic.type} toxic ${name} to ${p.proxy}`);
      },
      async stop() {
        const id = journalId;
        if (id === undefined) return;
        const r = await call('DELETE', toxicUrl);
        // 404: already gone (removed by hand, or a /reset) - undone all the same.
        if (r.status >= 300 && r.status !== 404) throw new Error(`fault "${spec.name}": deleting ${toxicUrl} failed: ${r.status} ${r.text.trim()}`);
        journalId = undefined;
        await ctx.journal.clear(id);
        ctx.log(`toxiproxy ${p.api}: removed toxic ${name} from ${p.proxy}`);
      },
    };
  },
};

export const proxyFaultKinds: Record<string, FaultKind> = {
  latency: builtIn(
    'latency',
    z.strictObject({ latency: zDuration, jitter: zDuration.optional(), stream: zStream }),
    (p) => ({ latency: p.latency, jitter: p.jitter ?? 0 }),
    'delays data through a proxy by latency ± jitter (stream: downstream by default)',
  ),
  bandwidth: builtIn('bandwidth', z.strictObject({ rate: zRateKBps, stream: zStream }), omitStream, 'caps a proxy direction at rate KB/s'),
  down: builtIn('down', z.strictObject({}), () => ({}), 'takes a proxy down: new connections refused, open ones closed'),
  timeout: builtIn('timeout', z.strictObject({ timeout: zDuration.default(0), stream: zStream }), omitStream, 'stops data through a proxy and closes connections after timeout (0: never)'),
  reset_peer: builtIn('reset_peer', z.strictObject({ timeout: zDuration.default(0), stream: zStream }), omitStream, 'resets connections through a proxy (RST) after timeout'),
  slow_close: builtIn('slow_close', z.strictObject({ delay: zDuration, stream: zStream }), omitStream, 'delays the close of connections through a proxy'),
  slicer: builtIn(
    'slicer',
    z.strictObject({ average_size: zBytes, size_variation: zBytes.optional(), delay: zDuration.optional(), stream: zStream }),
    // Toxiproxy's slicer delay is in µs; faultline durations are ms.
    (p) => ({ average_size: Math.round(p.average_size as number), size_variation: Math.round((p.size_variation as number | undefined) ?? 0), delay: ((p.delay as number | undefined) ?? 0) * 1000 }),
    'cuts data into slices of average_size ± size_variation bytes, delay apart',
  ),
  limit_data: builtIn('limit_data', z.strictObject({ bytes: zBytes, stream: zStream }), (p) => ({ bytes: Math.round(p.bytes as number) }), 'closes connections through a proxy after bytes'),
  'http-error': builtIn(
    'http-error',
    z.strictObject({ status: z.number().int().min(100).max(599).default(503), body: z.string().optional(), ...zMatch }),
    (p) => p,
    'answers matching requests with status (and body) instead of forwarding (http proxy)',
  ),
  'http-abort': builtIn('http-abort', z.strictObject({ ...zMatch }), (p) => p, 'resets the connection of matching requests (http proxy)'),
  'http-delay': builtIn('http-delay', z.strictObject({ delay: zDuration, ...zMatch }), (p) => p, 'delays matching requests before forwarding (http proxy)'),
  'malformed-body': builtIn(
    'malformed-body',
    z.strictObject({ mode: z.enum(['truncate', 'invalid-json']).default('truncate'), ...zMatch }),
    (p) => p,
    'forwards matching requests and spoils the response body: truncate or invalid-json (http proxy)',
  ),
  toxiproxy,
};
