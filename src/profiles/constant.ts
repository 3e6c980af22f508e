import { z } from 'zod';
import { zRate, zPositiveDuration } from '../config/units.ts';
import { fixedProfile, openStage, fmtRate, type Profile, type ProfileType, type RateResolver } from './types.ts';

/** `constant`: one stage at a fixed arrival rate. */
export const schema = z.strictObject({
  profile: z.literal('constant'),
  rate: zRate,
  duration: zPositiveDuration,
});

export function create(c: z.output<typeof schema>, rate: RateResolver): Profile {
  const r = rate(c.rate, 'load.rate');
  return fixedProfile('constant', [openStage(`${fmtRate(r)} req/s`, r, r, c.duration)]);
}

export const constant: ProfileType<typeof schema> = {
  name: 'constant',
  schema,
  create,
  flags: ['rate', 'duration'],
  impliedBy: ['rate'],
  describe: 'one stage at a fixed arrival rate: rate, duration',
};
