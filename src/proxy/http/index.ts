/** Every HTTP fault, by type name (what an HTTP-mode proxy takes as a toxic). Adding one is adding a file and a line. */
import { byName } from '../../registry.ts';
import type { ToxicFactory } from '../base.ts';
import type { HttpFault } from './types.ts';
import { httpError } from './error.ts';
import { httpAbort } from './abort.ts';
import { httpDelay } from './delay.ts';
import { malformedBody } from './malformed_body.ts';
import { bodyPatch } from './body_patch.ts';
import { down as tcpDown } from '../toxics/down.ts';

/** `down` works on HTTP proxies too (the proxy stops listening while it is present): one fault kind for both modes. */
const down: ToxicFactory<HttpFault> = { ...tcpDown, create: () => ({ disablesProxy: true, matches: () => false }) };

export const httpFaultTypes: Record<string, ToxicFactory<HttpFault>> = byName([httpError, httpAbort, httpDelay, malformedBody, bodyPatch, down]);
