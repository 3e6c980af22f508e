import type { FaultKind } from './types.ts';
/** Process and exec fault kinds (kill, terminate, pause, exec). */
export const processFaultKinds: Record<string, FaultKind> = {};
