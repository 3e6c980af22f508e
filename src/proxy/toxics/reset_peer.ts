/** reset_peer: resets the connection (RST, the peer sees ECONNRESET) after `timeout` ms, at once with 0. */
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import { zStream, type Toxic, type ToxicType } from './types.ts';

const attributes = z.object({ timeout: z.number().min(0).default(0) });

export const resetPeer: ToxicType = {
  name: 'reset_peer',
  attributes,
  create(raw): Toxic {
    const a = attributes.parse(raw);
    return {
      pipe: (chunk, ctx) => ctx.push(chunk),
      attach(conn) {
        const t = setTimeout(() => conn.reset(), a.timeout);
        return () => clearTimeout(t);
      },
    };
  },
  fault: { params: z.strictObject({ timeout: zDuration.default(0), stream: zStream }), describe: 'resets connections through a proxy (RST) after timeout' },
};
