/** http-abort: resets the client's connection (RST) instead of answering. */
import { z } from 'zod';
import type { HttpFault } from './types.ts';
import { compileMatch, matchAttributes } from './types.ts';
import type { ToxicFactory } from '../base.ts';

const attributes = z.object({ ...matchAttributes });

export const httpAbort: ToxicFactory<HttpFault> = {
  name: 'http-abort',
  attributes,
  create(raw) {
    const a = attributes.parse(raw);
    return {
      matches: compileMatch(a),
      async onRequest(req) {
        const s = req.socket;
        try {
          s.resetAndDestroy();
        } catch {
          s.destroy();
        }
        return 'done';
      },
    };
  },
  fault: { params: z.strictObject({ ...matchAttributes }), describe: 'resets the connection of matching requests (http proxy)' },
};
