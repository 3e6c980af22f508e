/** http-error: answers with `status` (and `body`) instead of forwarding. */
import { z } from 'zod';
import type { HttpFault } from './types.ts';
import { compileMatch, matchAttributes } from './types.ts';
import type { ToxicFactory } from '../base.ts';

const attributes = z.object({
  status: z.number().int().min(100).max(599).default(503),
  body: z.string().default(''),
  ...matchAttributes,
});

export const httpError: ToxicFactory<HttpFault> = {
  name: 'http-error',
  attributes,
  create(raw) {
    const a = attributes.parse(raw);
    const body = Buffer.from(a.body);
    const type = /^\s*[[{]/.test(a.body) ? 'application/json' : 'text/plain; charset=utf-8';
    return {
      matches: compileMatch(a),
      async onRequest(req, res) {
        req.resume(); // the request body is not needed; reading it keeps the connection reusable
        res.writeHead(a.status, { 'content-type': type, 'content-length': body.length, 'x-faultline-fault': 'http-error' });
        res.end(body);
        return 'done';
      },
    };
  },
  fault: {
    params: z.strictObject({ status: z.number().int().min(100).max(599).default(503), body: z.string().optional(), ...matchAttributes }),
    describe: 'answers matching requests with status (and body) instead of forwarding (http proxy)',
  },
};
