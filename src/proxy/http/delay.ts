/** http-delay: waits `delay` ms before forwarding the request. */
import { z } from 'zod';
import type { HttpFault } from './types.ts';
import { compileMatch, delay, matchAttributes } from './types.ts';
import type { ToxicFactory } from '../base.ts';

const attributes = z.object({ delay: z.number().min(0).default(0), ...matchAttributes });

export const httpDelay: ToxicFactory<HttpFault> = {
  attributes,
  create(raw) {
    const a = attributes.parse(raw);
    return {
      matches: compileMatch(a),
      async onRequest() {
        await delay(a.delay);
        return 'forward';
      },
    };
  },
};
