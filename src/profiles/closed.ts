import { z } from 'zod';
import { zPositiveDuration } from '../config/units.ts';
import { fixedProfile, type Profile, type ProfileType, type StagePlan } from './types.ts';

/**
 * `closed`: a fixed number of concurrent requests, each sent when the previous
 * one returns. This is a CLOSED model: the target's slowness slows the load, so
 * latency is service time and coordinated omission is not corrected. Results
 * say so. `concurrency` may be a list to step through.
 */
export const schema = z.strictObject({
  profile: z.literal('closed'),
  concurrency: z.union([z.number().int().min(1).max(100_000), z.array(z.number().int().min(1).max(100_000)).min(1)]),
  duration: zPositiveDuration,
});

export function create(c: z.output<typeof schema>): Profile {
  const list = Array.isArray(c.concurrency) ? c.concurrency : [c.concurrency];
  const stages: StagePlan[] = list.map((n) => ({
    label: `closed model, ${n} concurrent`,
    kind: 'load',
    model: 'closed',
    rateFrom: 0,
    rateTo: 0,
    concurrency: n,
    durationMs: c.duration,
    warmupMs: 0,
  }));
  return fixedProfile('closed', stages);
}

export const closed: ProfileType<typeof schema> = {
  name: 'closed',
  schema,
  create,
  flags: ['concurrency', 'duration'],
  impliedBy: ['concurrency'],
  describe: 'closed model: a fixed number of concurrent requests (or a list to step through), for duration',
};
