/**
 * body-patch: forwards, then changes fields of a JSON response — the
 * "unexpected nulls" and "schema mismatch between services" rows of the chaos
 * checklist.
 *
 *   op: null      the fields become null
 *   op: remove    the fields are deleted (array items are removed)
 *   op: retype    each field changes type: number → string ("42"), string → number
 *                 (its numeric value, else its length), boolean → string, null → 0,
 *                 object → array of its values, array → object keyed by index
 *   op: truncate  the body ends in the middle of the first field's value (valid
 *                 framing, a document no JSON parser accepts); without fields, at half
 *
 * `fields` are dot paths; `*` matches any key or array index (`items.*.price`;
 * `*.id` on a top-level array). A response that is not JSON (by parse, not by
 * Content-Type: services lie about it) is forwarded untouched and counted, so a
 * fault that never patched anything reports "no effect" instead of a setting.
 */
import { z } from 'zod';
import type { HttpFault } from './types.ts';
import { compileMatch, matchAttributes } from './types.ts';
import type { ToxicFactory } from '../base.ts';

const attributes = z.object({
  op: z.enum(['null', 'remove', 'retype', 'truncate']),
  fields: z.array(z.string().min(1)).default([]),
  ...matchAttributes,
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Calls `at(parent, key)` for every place a path names, deepest containers first for removal safety. */
function visit(doc: Json, path: string[], at: (parent: Json[] | { [k: string]: Json }, key: string | number) => void): void {
  const walk = (node: Json, i: number): void => {
    if (node === null || typeof node !== 'object') return;
    const seg = path[i]!;
    const last = i === path.length - 1;
    const keys: (string | number)[] = Array.isArray(node)
      ? seg === '*' ? node.map((_, j) => j) : /^\d+$/.test(seg) && Number(seg) < node.length ? [Number(seg)] : []
      : seg === '*' ? Object.keys(node) : Object.hasOwn(node, seg) ? [seg] : [];
    // Backwards, so removing array items while visiting keeps the remaining indices right.
    for (const k of [...keys].reverse()) {
      if (last) at(node, k);
      else walk((node as Record<string | number, Json>)[k]!, i + 1);
    }
  };
  walk(doc, 0);
}

function retype(v: Json): Json {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    const n = Number(v);
    return v.trim() !== '' && Number.isFinite(n) ? n : v.length;
  }
  if (typeof v === 'boolean') return String(v);
  if (v === null) return 0;
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  return Object.values(v);
}

const MARK = '\u0000faultline-cut\u0000';

export interface BodyPatchEffect {
  /** Responses the fault hit (matched and rolled) that were JSON and had a named field (or any JSON, for a field-less truncate). */
  patched: number;
  /** Fields changed across those responses. */
  fields: number;
  /** Hit, but not JSON: forwarded untouched. */
  notJson: number;
  /** Hit, JSON, but none of the fields was there: forwarded untouched. */
  noField: number;
}

export const bodyPatch: ToxicFactory<HttpFault & { effect(): BodyPatchEffect }> = {
  name: 'body-patch',
  attributes,
  create(raw) {
    const a = attributes.parse(raw);
    if (a.op !== 'truncate' && a.fields.length === 0) throw new Error(`body-patch op ${a.op} needs fields: the dot paths to change`);
    const paths = a.fields.map((f) => f.split('.'));
    const effect: BodyPatchEffect = { patched: 0, fields: 0, notJson: 0, noField: 0 };
    return {
      matches: compileMatch(a),
      effect: () => ({ ...effect }),
      rewriteBody(body) {
        let doc: Json;
        try {
          doc = JSON.parse(body.toString('utf8')) as Json;
        } catch {
          effect.notJson++;
          return body;
        }
        if (a.op === 'truncate' && paths.length === 0) {
          effect.patched++;
          return body.subarray(0, Math.floor(body.length / 2));
        }
        let n = 0;
        let cutValue = '';
        for (const p of paths) {
          visit(doc, p, (parent, key) => {
            if (a.op === 'truncate' && n > 0) return;
            n++;
            const rec = parent as Record<string | number, Json>;
            if (a.op === 'null') rec[key] = null;
            else if (a.op === 'retype') rec[key] = retype(rec[key]!);
            else if (a.op === 'truncate') {
              cutValue = JSON.stringify(rec[key]) ?? 'null';
              rec[key] = MARK;
            }
            else if (Array.isArray(parent)) parent.splice(key as number, 1);
            else delete rec[key];
          });
        }
        if (n === 0) {
          effect.noField++;
          return body;
        }
        effect.patched++;
        effect.fields += n;
        const text = JSON.stringify(doc);
        if (a.op !== 'truncate') return Buffer.from(text);
        // Cut inside the value: half of its text stays (a string's quote opens and never closes).
        const i = text.indexOf(JSON.stringify(MARK));
        return Buffer.from(text.slice(0, i) + cutValue.slice(0, Math.max(1, Math.floor(cutValue.length / 2))));
      },
    };
  },
  fault: {
    params: z
      .strictObject({ op: z.enum(['null', 'remove', 'retype', 'truncate']), fields: z.array(z.string().min(1)).optional(), ...matchAttributes })
      .superRefine((p, ctx) => {
        if (p.op !== 'truncate' && !p.fields?.length) ctx.addIssue({ code: 'custom', path: ['fields'], message: `op ${p.op} needs fields: the dot paths to change` });
      }),
    describe: 'changes fields of matching JSON responses: null, remove, retype or truncate them (http proxy)',
  },
};
