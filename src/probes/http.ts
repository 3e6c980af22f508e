/**
 * An HTTP probe: GET (or `method`) a loopback URL; ok when the status is the
 * expected one (default any 2xx), a JSON field has the expected value
 * (`json: { path: "status", equals: "ok" }`) and the body includes a text, all
 * within the timeout. Its latency is recorded, so a clause may bound it.
 */
import { z } from 'zod';
import { zLoopbackHttpUrl } from '../config/units.ts';
import type { ProbeKind } from './types.ts';

const params = z.strictObject({
  url: zLoopbackHttpUrl('http://127.0.0.1:8080/health', 'faultline probes only 127.0.0.1, localhost or [::1]'),
  method: z.string().regex(/^[A-Za-z]+$/).default('GET'),
  status: z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]).optional(),
  json: z.strictObject({ path: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean(), z.null()]) }).optional(),
  bodyIncludes: z.string().optional(),
});
type Params = z.output<typeof params>;

/** A dot path into parsed JSON (`checks.db.status`, `items.0.id`). */
function at(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

export const httpProbe: ProbeKind<Params> = {
  name: 'http',
  params,
  describe: 'polls a loopback URL: ok on the expected status (2xx), JSON field and body text within the timeout; latency recorded',
  create(name, p, o) {
    const statuses = p.status === undefined ? undefined : Array.isArray(p.status) ? p.status : [p.status];
    return {
      name,
      async poll() {
        const t0 = performance.now();
        try {
          const res = await fetch(p.url, { method: p.method.toUpperCase(), signal: AbortSignal.timeout(o.timeoutMs), headers: { 'user-agent': 'faultline-probe' } });
          const text = await res.text();
          const latencyMs = performance.now() - t0;
          const statusOk = statuses ? statuses.includes(res.status) : res.status >= 200 && res.status < 300;
          if (!statusOk) return { ok: false, latencyMs, value: res.status, message: `status ${res.status}` };
          if (p.json) {
            let v: unknown;
            try {
              v = at(JSON.parse(text), p.json.path);
            } catch {
              return { ok: false, latencyMs, value: res.status, message: 'body is not JSON' };
            }
            const shown = v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);
            if (v !== p.json.equals) return { ok: false, latencyMs, value: shown, message: `${p.json.path} is ${JSON.stringify(v)}, expected ${JSON.stringify(p.json.equals)}` };
            return { ok: true, latencyMs, value: shown };
          }
          if (p.bodyIncludes !== undefined && !text.includes(p.bodyIncludes)) return { ok: false, latencyMs, value: res.status, message: `body does not include ${JSON.stringify(p.bodyIncludes)}` };
          return { ok: true, latencyMs, value: res.status };
        } catch (e) {
          const latencyMs = performance.now() - t0;
          const err = e as Error & { cause?: { code?: string } };
          const why = err.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : (err.cause?.code ?? err.message);
          return { ok: false, latencyMs, message: why };
        }
      },
    };
  },
};
