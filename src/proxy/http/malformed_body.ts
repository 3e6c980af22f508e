/**
 * malformed-body: forwards, then spoils the response body. `truncate` keeps
 * the first half (with a matching Content-Length, so the framing is valid and
 * the content is not); `invalid-json` replaces it with text no JSON parser accepts.
 */
import { z } from 'zod';
import type { HttpFault } from './types.ts';
import { compileMatch, matchAttributes } from './types.ts';
import type { ToxicFactory } from '../base.ts';

const attributes = z.object({ mode: z.enum(['truncate', 'invalid-json']).default('truncate'), ...matchAttributes });

const INVALID_JSON = Buffer.from('{"faultline": "malformed body", ');

export const malformedBody: ToxicFactory<HttpFault> = {
  name: 'malformed-body',
  attributes,
  create(raw) {
    const a = attributes.parse(raw);
    return {
      matches: compileMatch(a),
      rewriteBody(body) {
        if (a.mode === 'invalid-json') return INVALID_JSON;
        return body.subarray(0, Math.floor(body.length / 2));
      },
    };
  },
  fault: {
    params: z.strictObject({ mode: z.enum(['truncate', 'invalid-json']).default('truncate'), ...matchAttributes }),
    describe: 'forwards matching requests and spoils the response body: truncate or invalid-json (http proxy)',
  },
};
