/**
 * timeout: stops all data getting through and closes the connection after
 * `timeout` ms; with 0 it never closes and data waits until the toxic is removed
 * (then it flows again, in order: held data is never dropped).
 */
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import { zStream, type Toxic, type ToxicType } from './types.ts';

const attributes = z.object({ timeout: z.number().min(0).default(0) });

export const timeout: ToxicType = {
  name: 'timeout',
  attributes,
  create(raw): Toxic {
    const a = attributes.parse(raw);
    return {
      async pipe(chunk, ctx) {
        await ctx.sleep(Infinity); // until the toxic set changes
        await ctx.push(chunk);
      },
      attach(conn) {
        if (a.timeout <= 0) return () => {};
        const t = setTimeout(() => conn.close(), a.timeout);
        return () => clearTimeout(t);
      },
    };
  },
  fault: {
    params: z.strictObject({ timeout: zDuration.default(0), stream: zStream }),
    describe: 'stops data through a proxy and closes connections after timeout (0: never)',
  },
};
