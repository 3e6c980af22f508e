import { z } from 'zod';
import { zRate, zPositiveDuration } from '../config/units.ts';
import { fixedProfile, openStage, fmtRate, type Profile, type ProfileType, type RateResolver, type StagePlan } from './types.ts';

/**
 * `steps`: constant-rate stages from `from` to `to`, either `steps` stages
 * (evenly spaced, both ends included) or every `increment` req/s.
 */
export const schema = z
  .strictObject({
    profile: z.literal('steps'),
    from: zRate,
    to: zRate,
    steps: z.number().int().min(1).max(1000).optional(),
    increment: zRate.optional(),
    stepDuration: zPositiveDuration,
  })
  .refine((c) => !(c.steps !== undefined && c.increment !== undefined), { message: 'give either steps or increment, not both' });

export function create(c: z.output<typeof schema>, rate: RateResolver): Profile {
  const from = rate(c.from, 'load.from');
  const to = rate(c.to, 'load.to');
  const rates: number[] = [];
  if (c.increment !== undefined) {
    const inc = rate(c.increment, 'load.increment');
    const dir = to >= from ? 1 : -1;
    for (let r = from; dir > 0 ? r <= to + 1e-9 : r >= to - 1e-9; r += dir * inc) rates.push(r);
  } else {
    const n = c.steps ?? 10;
    for (let i = 0; i < n; i++) rates.push(n === 1 ? to : from + ((to - from) * i) / (n - 1));
  }
  const stages: StagePlan[] = rates.map((r, i) => openStage(`step ${i + 1}/${rates.length}: ${fmtRate(r)} req/s`, r, r, c.stepDuration));
  return fixedProfile('steps', stages);
}

export const steps: ProfileType<typeof schema> = {
  name: 'steps',
  schema,
  create,
  flags: ['from', 'to', 'steps', 'increment', 'stepDuration'],
  impliedBy: ['steps', 'increment', 'stepDuration'],
  describe: 'constant-rate stages from `from` to `to`: steps or increment, stepDuration',
};
