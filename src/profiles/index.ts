/** Every load profile, by name: adding a profile is adding a file and a line. */
import { byName } from '../registry.ts';
import type { ProfileType } from './types.ts';
import { constant } from './constant.ts';
import { steps } from './steps.ts';
import { ramp } from './ramp.ts';
import { closed } from './closed.ts';
import { search } from './search.ts';

/** The built-in profiles, with their schemas' types (what `defineScenario` checks a `load` against). */
export const builtInProfiles = [constant, steps, ramp, closed, search] as const;

export const profiles: Record<string, ProfileType> = byName<ProfileType>(builtInProfiles as readonly ProfileType[]);

export type { Profile, ProfileType, RateResolver, StagePlan, StageVerdict } from './types.ts';
