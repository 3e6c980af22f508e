/** terminate: SIGTERM (a graceful shutdown) to a service's replicas or a pid; `restart` as kill. */
import type { FaultKind } from '../types.ts';
import { killParams, SignalFault } from './kill.ts';

export const terminate: FaultKind = {
  name: 'terminate',
  params: killParams,
  targets: 'service-or-pid',
  describe: 'SIGTERM a service\'s replicas or a pid (graceful shutdown); `restart: 2s` like kill',
  create: (spec, ctx) => new SignalFault(spec, ctx, 'SIGTERM'),
};
