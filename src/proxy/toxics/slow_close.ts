/** slow_close: delays passing on the close of the connection by `delay` ms. */
import { z } from 'zod';
import type { Toxic, ToxicType } from './types.ts';

const attributes = z.object({ delay: z.number().min(0).default(0) });

export const slowClose: ToxicType = {
  attributes,
  create(raw): Toxic {
    const a = attributes.parse(raw);
    return {
      pipe: (chunk, ctx) => ctx.push(chunk),
      async beforeEnd(sleep) {
        await sleep(a.delay);
      },
    };
  },
};
