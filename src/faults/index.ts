/**
 * Every fault kind, by name. Adding a fault kind is adding a file in kinds/
 * and a line here; a toxic or HTTP fault of the built-in proxy brings its own
 * fault kind (kinds/proxy.ts derives them).
 */
import { byName } from '../registry.ts';
import type { FaultKind } from './types.ts';
import { proxyFaultKinds } from './kinds/proxy.ts';
import { toxiproxy } from './kinds/toxiproxy.ts';
import { kill } from './kinds/kill.ts';
import { terminate } from './kinds/terminate.ts';
import { pause } from './kinds/pause.ts';
import { exec } from './kinds/exec.ts';
import { packetLoss } from './kinds/packet-loss.ts';
import { linkDown } from './kinds/link-down.ts';
import { partition } from './kinds/partition.ts';
import { linkBandwidth } from './kinds/link-bandwidth.ts';
import { dns } from './kinds/dns.ts';
import { cpu } from './kinds/cpu.ts';
import { memory } from './kinds/memory.ts';
import { diskFill } from './kinds/disk-fill.ts';
import { hold } from './kinds/hold.ts';
import { file } from './kinds/file.ts';
import { tls } from './kinds/tls.ts';

export const faultKinds: Record<string, FaultKind> = byName([
  ...proxyFaultKinds,
  toxiproxy,
  kill,
  terminate,
  pause,
  exec,
  packetLoss,
  linkDown,
  partition,
  linkBandwidth,
  dns,
  cpu,
  memory,
  diskFill,
  hold,
  file,
  tls,
]);
