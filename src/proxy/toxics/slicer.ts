/**
 * slicer: cuts each chunk into slices of `average_size` ± `size_variation`
 * bytes, with `delay` µs between slices (Toxiproxy's slicer).
 */
import { z } from 'zod';
import { zBytes, zDuration } from '../../config/units.ts';
import { zStream, type Toxic, type ToxicType } from './types.ts';

// No stricter than Toxiproxy, which checks nothing: any size_variation is taken (Toxiproxy's
// own docs say "less than average_size", its Node client's test uses equal). A slice is at
// least one byte, so no setting can stall the stream.
const attributes = z.object({
  average_size: z.number().int().min(1).default(1),
  size_variation: z.number().int().min(0).default(0),
  delay: z.number().min(0).default(0),
});

export const slicer: ToxicType = {
  name: 'slicer',
  attributes: attributes as unknown as ToxicType['attributes'],
  create(raw): Toxic {
    const a = attributes.parse(raw);
    const delayMs = a.delay / 1000;
    return {
      async pipe(chunk, ctx) {
        let off = 0;
        while (off < chunk.length) {
          const size = Math.max(1, a.average_size + Math.round((Math.random() * 2 - 1) * a.size_variation));
          const part = chunk.subarray(off, off + size);
          off += part.length;
          await ctx.push(part);
          // After an interrupt the rest goes straight on (and is re-queued in order).
          if (off < chunk.length && delayMs > 0) await ctx.sleep(delayMs);
        }
      },
    };
  },
  fault: {
    params: z.strictObject({ average_size: zBytes, size_variation: zBytes.optional(), delay: zDuration.optional(), stream: zStream }),
    // Toxiproxy's slicer delay is in µs; faultline durations are ms.
    toAttributes: (p) => ({ average_size: Math.round(p.average_size as number), size_variation: Math.round((p.size_variation as number | undefined) ?? 0), delay: ((p.delay as number | undefined) ?? 0) * 1000 }),
    describe: 'cuts data into slices of average_size ± size_variation bytes, delay apart',
  },
};
