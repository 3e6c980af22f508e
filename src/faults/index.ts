/**
 * Every fault kind, by name. Adding a fault kind is adding a file and a line:
 * proxy-backed kinds live in proxyKinds.ts, process and exec kinds in processKinds.ts.
 */
import type { FaultKind } from './types.ts';
import { proxyFaultKinds } from './proxyKinds.ts';
import { processFaultKinds } from './processKinds.ts';

export const faultKinds: Record<string, FaultKind> = { ...proxyFaultKinds, ...processFaultKinds };
