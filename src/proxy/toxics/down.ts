/**
 * down: the whole proxy stops accepting and its connections are closed while
 * this toxic is present (Toxiproxy's `enabled: false`, as a removable toxic).
 * It acts on the proxy, so toxicity does not apply to it.
 */
import { z } from 'zod';
import type { Toxic, ToxicType } from './types.ts';

const attributes = z.object({});

export const down: ToxicType = {
  name: 'down',
  attributes,
  create(): Toxic {
    return { disablesProxy: true, pipe: (chunk, ctx) => ctx.push(chunk) };
  },
  fault: { params: z.strictObject({}), describe: 'takes a proxy down: new connections refused, open ones closed' },
};
