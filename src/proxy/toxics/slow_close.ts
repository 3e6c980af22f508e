/** slow_close: delays passing on the close of the connection by `delay` ms. */
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import { zStream, type Toxic, type ToxicType } from './types.ts';

const attributes = z.object({ delay: z.number().min(0).default(0) });

export const slowClose: ToxicType = {
  name: 'slow_close',
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
  fault: { params: z.strictObject({ delay: zDuration, stream: zStream }), describe: 'delays the close of connections through a proxy' },
};
