/** Every load profile, by name: adding a profile is adding a file and a line. */
import type { RateSpec } from '../config/units.ts';
import * as constant from './constant.ts';
import * as steps from './steps.ts';
import * as ramp from './ramp.ts';
import * as closed from './closed.ts';
import * as search from './search.ts';

/** Resolves a written rate ("3x", "1500") to req/s; `path` names it in errors. */
export type RateResolver = (r: RateSpec, path: string) => number;

export const profiles = { constant, steps, ramp, closed, search } as const;
export type ProfileName = keyof typeof profiles;
export type { Profile, StagePlan, StageVerdict } from './types.ts';
