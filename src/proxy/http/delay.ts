/** http-delay: waits `delay` ms before forwarding the request. */
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import type { HttpFault } from './types.ts';
import { compileMatch, delay, matchAttributes } from './types.ts';
import type { ToxicFactory } from '../base.ts';

const attributes = z.object({ delay: z.number().min(0).default(0), ...matchAttributes });

export const httpDelay: ToxicFactory<HttpFault> = {
  name: 'http-delay',
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
  fault: { params: z.strictObject({ delay: zDuration, ...matchAttributes }), describe: 'delays matching requests before forwarding (http proxy)' },
};
