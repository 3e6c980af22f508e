/**
 * timeout (Toxiproxy's semantics): no data gets through — it is dropped, not
 * held — and the connection is closed after `timeout` ms; with 0 it is never
 * closed by the timer. When the toxic is removed, every connection it acted on
 * is closed (Toxiproxy's Cleanup): what was sent meanwhile is gone, as it
 * would be through a real timed-out link.
 */
import { z } from 'zod';
import { zDuration } from '../../config/units.ts';
import { zStream, type Toxic, type ToxicType } from './types.ts';

const attributes = z.object({ timeout: z.number().min(0).default(0) });

export const timeout: ToxicType = {
  name: 'timeout',
  attributes,
  create(raw): Toxic {
    const a = attributes.parse(raw);
    return {
      async pipe() {
        // Dropped on the ground, as Toxiproxy does.
      },
      attach(conn) {
        if (a.timeout <= 0) return () => {};
        const t = setTimeout(() => conn.close(), a.timeout);
        return () => clearTimeout(t);
      },
      cleanup(conn) {
        conn.close();
      },
    };
  },
  fault: {
    params: z.strictObject({ timeout: zDuration.default(0), stream: zStream }),
    describe: 'drops data through a proxy and closes connections after timeout (0: never), and when it is removed (Toxiproxy\'s timeout)',
  },
};
