/** limit_data: lets `bytes` bytes through on this connection direction, then closes the connection. */
import { z } from 'zod';
import { zBytes } from '../../config/units.ts';
import { zStream, type Toxic, type ToxicType } from './types.ts';

const attributes = z.object({ bytes: z.number().int().min(0).default(0) });

export const limitData: ToxicType = {
  name: 'limit_data',
  attributes,
  create(raw): Toxic {
    const a = attributes.parse(raw);
    return {
      async pipe(chunk, ctx) {
        const passed = ctx.state.passed ?? 0;
        const room = a.bytes - passed;
        if (room <= 0) return ctx.close();
        const part = room >= chunk.length ? chunk : chunk.subarray(0, room);
        // Count only what went on: a re-queued part comes back and is counted then.
        if (!(await ctx.push(part))) {
          // The toxic set changed: the rest goes back in order too (this toxic may be gone).
          if (part !== chunk) await ctx.push(chunk.subarray(part.length));
          return;
        }
        ctx.state.passed = passed + part.length;
        if (ctx.state.passed >= a.bytes) ctx.close();
      },
    };
  },
  fault: { params: z.strictObject({ bytes: zBytes, stream: zStream }), toAttributes: (p) => ({ bytes: Math.round(p.bytes as number) }), describe: 'closes connections through a proxy after bytes' },
};
