import { z } from 'zod';
import { zRate, zPositiveDuration, zDuration, zPercent } from '../config/units.ts';
import { openStage, fmtRate, type Profile, type ProfileType, type RateResolver, type StagePlan, type StageVerdict } from './types.ts';

/**
 * `search`: finds the breaking point adaptively. It grows the rate by `growth`
 * from `from` until a probe fails (or starts from a given `bracket`), then
 * bisects between the last passing and the first failing rate until the
 * interval is within `precision` of the passing rate, or `budget` runs out.
 * Each probe's first `warmup` is excluded from its verdict, and a `cooldown`
 * with no load follows each probe so the next one does not inherit its queues.
 */
export const schema = z.strictObject({
  profile: z.literal('search'),
  from: zRate,
  to: zRate,
  growth: z.number().gt(1).max(10).default(1.5),
  bracket: z.tuple([zRate, zRate]).optional(),
  precision: zPercent.default(0.02),
  probeDuration: zPositiveDuration.default(5000),
  warmup: zDuration.default(1000),
  budget: zPositiveDuration.default(180_000),
  /** Rest between probes: a failed probe leaves queues behind, and the next probe must not inherit them. */
  cooldown: zDuration.default(2000),
});

export interface SearchProbe {
  rate: number;
  held: boolean;
  inconclusive: boolean;
  generatorLimited: boolean;
  achievedRate: number;
}

/** The search's own account, for the result. */
export interface SearchReport {
  lastPassing?: number;
  firstFailing?: number;
  /** (firstFailing − lastPassing) / lastPassing, when both exist. */
  precisionReached?: number;
  precisionTarget: number;
  probes: SearchProbe[];
  /** Why the search ended. */
  ended: 'converged' | 'budget' | 'held-to-max' | 'failed-at-start' | 'generator-limit';
}

export interface SearchProfile extends Profile {
  report(): SearchReport;
}

export function create(c: z.output<typeof schema>, rate: RateResolver): SearchProfile {
  const from = rate(c.from, 'load.from');
  const to = rate(c.to, 'load.to');
  let lo: number | undefined;
  let hi: number | undefined;
  if (c.bracket) {
    lo = rate(c.bracket[0], 'load.bracket[0]');
    hi = rate(c.bracket[1], 'load.bracket[1]');
  }
  const probes: SearchProbe[] = [];
  let spent = 0;
  let ended: SearchReport['ended'] = 'converged';
  let done = false;
  let n = 0;
  const probe = (r: number): StagePlan => {
    n++;
    spent += c.probeDuration + c.cooldown;
    return { ...openStage(`probe ${n}: ${fmtRate(r)} req/s`, r, r, c.probeDuration, 'probe', Math.min(c.warmup, c.probeDuration / 2)), cooldownMs: c.cooldown };
  };
  const converged = () => lo !== undefined && hi !== undefined && (hi - lo) / lo <= c.precision;
  const nextRate = (): number | undefined => {
    if (hi === undefined) {
      // Growing: from the start, or past the last passing rate.
      if (lo === undefined) return from;
      if (lo >= to) {
        ended = 'held-to-max';
        return undefined;
      }
      return Math.min(to, lo * c.growth);
    }
    if (lo === undefined) {
      // Failing from the first probe: go down until something passes.
      if (hi <= from / 64) {
        ended = 'failed-at-start';
        return undefined;
      }
      return hi / 2;
    }
    if (converged()) {
      ended = 'converged';
      return undefined;
    }
    return (lo + hi) / 2;
  };
  return {
    name: 'search',
    adaptive: true,
    budgetMs: c.budget,
    next(prev?: StageVerdict) {
      if (done) return undefined;
      if (prev) {
        const r = prev.plan.rateFrom;
        probes.push({ rate: r, held: prev.held, inconclusive: prev.inconclusive, generatorLimited: prev.generatorLimited, achievedRate: prev.achievedRate });
        if (prev.generatorLimited) {
          // The generator, not the target, was the limit: nothing above this rate can be judged.
          ended = 'generator-limit';
          done = true;
          return undefined;
        }
        if (prev.held && !prev.inconclusive) lo = Math.max(lo ?? 0, r);
        else hi = Math.min(hi ?? Infinity, r);
      }
      if (spent + c.probeDuration > c.budget) {
        ended = converged() ? 'converged' : 'budget';
        done = true;
        return undefined;
      }
      const r = nextRate();
      if (r === undefined) {
        done = true;
        return undefined;
      }
      return probe(r);
    },
    report: () => ({
      lastPassing: lo,
      firstFailing: hi,
      precisionReached: lo !== undefined && hi !== undefined ? (hi - lo) / lo : undefined,
      precisionTarget: c.precision,
      probes,
      ended,
    }),
  };
}

export const search: ProfileType<typeof schema> = {
  name: 'search',
  schema,
  create,
  check(c, rate) {
    const problems: string[] = [];
    const from = rate(c.from);
    const to = rate(c.to);
    if (from > to) problems.push(`load.from: the search starts at ${fmtRate(from)} req/s, above load.to (${fmtRate(to)} req/s); from must not exceed to`);
    if (c.bracket) {
      const [a, b] = c.bracket.map((r) => rate(r));
      if (a >= b) problems.push(`load.bracket: expected [passing, failing] with the first below the second, got [${fmtRate(a)}, ${fmtRate(b)}] req/s`);
    }
    return problems;
  },
  flags: ['from', 'to', 'precision'],
  describe: 'finds the breaking point adaptively: grows by growth from `from`, then bisects to precision within budget',
};
