import { z } from 'zod';
import { zRate, zPositiveDuration } from '../config/units.ts';
import { fixedProfile, openStage, fmtRate, type Profile, type ProfileType, type RateResolver, type StagePlan } from './types.ts';

/**
 * `ramp`: the arrival rate rises linearly from `from` to `to` over `duration`.
 * It runs as `segments` consecutive linear stages (default: one per 5 s, at
 * least 1) so the verdict can name the load level where a breach began.
 */
export const schema = z.strictObject({
  profile: z.literal('ramp'),
  from: zRate,
  to: zRate,
  duration: zPositiveDuration,
  segments: z.number().int().min(1).max(1000).optional(),
});

export function create(c: z.output<typeof schema>, rate: RateResolver): Profile {
  const from = rate(c.from, 'load.from');
  const to = rate(c.to, 'load.to');
  const n = c.segments ?? Math.max(1, Math.round(c.duration / 5000));
  const stages: StagePlan[] = [];
  for (let i = 0; i < n; i++) {
    const a = from + ((to - from) * i) / n;
    const b = from + ((to - from) * (i + 1)) / n;
    stages.push(openStage(`ramp ${fmtRate(a)}→${fmtRate(b)} req/s`, a, b, c.duration / n));
  }
  return fixedProfile('ramp', stages);
}

export const ramp: ProfileType<typeof schema> = {
  name: 'ramp',
  schema,
  create,
  flags: ['from', 'to', 'duration'],
  impliedBy: ['from', 'to'],
  describe: 'the rate rises linearly from `from` to `to` over duration (segments: stages it is judged in)',
};
