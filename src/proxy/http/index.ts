/** Every HTTP fault, by type name (what an HTTP-mode proxy takes as a toxic). */
import type { ToxicFactory } from '../base.ts';
import type { HttpFault } from './types.ts';
import { httpError } from './error.ts';
import { httpAbort } from './abort.ts';
import { httpDelay } from './delay.ts';
import { malformedBody } from './malformed_body.ts';
import { bodyPatch } from './body_patch.ts';
import { z } from 'zod';

/** `down` works on HTTP proxies too: the proxy stops listening while it is present. */
const down: ToxicFactory<HttpFault> = {
  attributes: z.object({}),
  create: () => ({ disablesProxy: true, matches: () => false }),
};

export const httpFaultTypes: Record<string, ToxicFactory<HttpFault>> = {
  'http-error': httpError,
  'http-abort': httpAbort,
  'http-delay': httpDelay,
  'malformed-body': malformedBody,
  'body-patch': bodyPatch,
  down,
};
