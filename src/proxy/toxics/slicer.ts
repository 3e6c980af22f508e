/**
 * slicer: cuts each chunk into slices of `average_size` ± `size_variation`
 * bytes, with `delay` µs between slices (Toxiproxy's slicer).
 */
import { z } from 'zod';
import type { Toxic, ToxicType } from './types.ts';

const attributes = z
  .object({
    average_size: z.number().int().min(1).default(1),
    size_variation: z.number().int().min(0).default(0),
    delay: z.number().min(0).default(0),
  })
  .refine((a) => a.size_variation < a.average_size, { message: 'size_variation must be smaller than average_size' });

export const slicer: ToxicType = {
  attributes: attributes as unknown as ToxicType['attributes'],
  create(raw): Toxic {
    const a = attributes.parse(raw);
    const delayMs = a.delay / 1000;
    return {
      async pipe(chunk, ctx) {
        let off = 0;
        while (off < chunk.length) {
          const size = a.average_size + Math.round((Math.random() * 2 - 1) * a.size_variation);
          const part = chunk.subarray(off, off + size);
          off += part.length;
          await ctx.push(part);
          // After an interrupt the rest goes straight on (and is re-queued in order).
          if (off < chunk.length && delayMs > 0) await ctx.sleep(delayMs);
        }
      },
    };
  },
};
