/** bandwidth: caps the direction at `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy). */
import { z } from 'zod';
import { parseBytes } from '../../config/units.ts';
import { zStream, type Toxic, type ToxicType } from './types.ts';

const attributes = z.object({ rate: z.number().min(0).default(0) });

// Big chunks are cut so the rate is smooth at a 100 ms grain, not bursty.
const SLICE_MS = 100;

/** A fault's rate: a number is KB/s (Toxiproxy's unit); a size string is per second ("64KB" = 64 KB/s). */
const zRateKBps = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const kbps = typeof v === 'number' ? v : (parseBytes(v.replace(/\/s$/i, '')) ?? NaN) / 1000;
  if (!(kbps > 0)) {
    ctx.addIssue({ code: 'custom', message: `expected a rate in KB/s like 100 or "100KB/s", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return kbps;
});

export const bandwidth: ToxicType = {
  name: 'bandwidth',
  attributes,
  create(raw): Toxic {
    const { rate } = attributes.parse(raw);
    const bytesPerMs = rate; // rate KB/s = rate bytes/ms
    return {
      async pipe(chunk, ctx) {
        if (rate <= 0) return ctx.push(chunk);
        const slice = Math.max(1, Math.floor(bytesPerMs * SLICE_MS));
        for (let off = 0; off < chunk.length; off += slice) {
          const part = chunk.subarray(off, off + slice);
          // Carry the rounding debt between chunks so many small chunks keep the rate too.
          const due = (ctx.state.debt ?? 0) + part.length / bytesPerMs;
          const started = performance.now();
          const full = await ctx.sleep(due);
          ctx.state.debt = full ? due - (performance.now() - started) : 0;
          await ctx.push(part);
        }
      },
    };
  },
  fault: { params: z.strictObject({ rate: zRateKBps, stream: zStream }), describe: 'caps a proxy direction at rate KB/s' },
};
