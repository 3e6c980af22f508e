/** Every load profile, by name: adding a profile is adding a file and a line. */
import * as constant from './constant.ts';
import * as steps from './steps.ts';
import * as ramp from './ramp.ts';
import * as closed from './closed.ts';
import * as search from './search.ts';

export const profiles = { constant, steps, ramp, closed, search } as const;
export type ProfileName = keyof typeof profiles;
export type { Profile, RateResolver, StagePlan, StageVerdict } from './types.ts';
