/**
 * toxiproxy: the same toxics through any server with Toxiproxy's REST API
 * (params: api, proxy, toxic); the toxic is deleted at the end, and the delete
 * is journalled before the toxic is added.
 */
import { z } from 'zod';
import { zLoopbackHttpUrl } from '../../config/units.ts';
import type { FaultKind } from '../types.ts';
import { zStream } from '../../proxy/toxics/types.ts';

/** A loopback http(s) URL for a Toxiproxy API. */
const zLoopbackApi = zLoopbackHttpUrl('http://127.0.0.1:8474', 'faultline only talks to 127.0.0.1, localhost or [::1]');

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

export const toxiproxy: FaultKind = {
  name: 'toxiproxy',
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
