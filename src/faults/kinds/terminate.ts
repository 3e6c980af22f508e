/** terminate: SIGTERM (a graceful shutdown) to a service's replicas or a pid; `restart` as kill. */
import type { FaultKind } from '../types.ts';
import { kill, SignalFault } from './kill.ts';

/** kill's params, targets and replica choice, with SIGTERM. */
export const terminate: FaultKind = {
  ...kill,
  name: 'terminate',
  describe: "SIGTERM a service's replicas or a pid (graceful shutdown); `restart: 2s` like kill",
  create: (spec, ctx) => new SignalFault(spec, ctx, 'SIGTERM'),
};
