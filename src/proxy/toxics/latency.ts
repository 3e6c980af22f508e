/** latency: delays each chunk by `latency` ± `jitter` ms from when it arrived (Toxiproxy's latency toxic). */
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import { zStream, type Toxic, type ToxicType } from './types.ts';

const attributes = z.object({ latency: z.number().min(0).default(0), jitter: z.number().min(0).default(0) });

export const latency: ToxicType = {
  name: 'latency',
  attributes,
  create(raw): Toxic {
    const a = attributes.parse(raw);
    return {
      async pipe(chunk, ctx) {
        const delay = a.latency + (a.jitter ? (Math.random() * 2 - 1) * a.jitter : 0);
        // Measured from arrival, so the queue behind a chunk does not add up delays:
        // throughput is kept, only time shifts (as Toxiproxy does with c.Timestamp).
        await ctx.sleep(delay - (performance.now() - ctx.arrivedAt));
        await ctx.push(chunk);
      },
    };
  },
  fault: {
    params: z.strictObject({ latency: zDuration, jitter: zDuration.optional(), stream: zStream }),
    toAttributes: (p) => ({ latency: p.latency, jitter: p.jitter ?? 0 }),
    describe: 'delays data through a proxy by latency ± jitter (stream: downstream by default)',
  },
};
