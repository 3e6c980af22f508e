/** Every probe kind, by name: adding one is adding a file and a line. */
import { byName } from '../registry.ts';
import type { ProbeKind } from './types.ts';
import { httpProbe } from './http.ts';
import { commandProbe } from './command.ts';

export const probeKinds: Record<string, ProbeKind<never>> = byName<ProbeKind<never>>([httpProbe as ProbeKind<never>, commandProbe as ProbeKind<never>]);
