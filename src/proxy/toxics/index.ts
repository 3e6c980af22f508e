/** Every TCP toxic, by Toxiproxy's type name. Adding a toxic is adding a file and a line. */
import { byName } from '../../registry.ts';
import type { ToxicType } from './types.ts';
import { latency } from './latency.ts';
import { bandwidth } from './bandwidth.ts';
import { down } from './down.ts';
import { timeout } from './timeout.ts';
import { resetPeer } from './reset_peer.ts';
import { slowClose } from './slow_close.ts';
import { slicer } from './slicer.ts';
import { limitData } from './limit_data.ts';

export const toxicTypes: Record<string, ToxicType> = byName([latency, bandwidth, down, timeout, resetPeer, slowClose, slicer, limitData]);
