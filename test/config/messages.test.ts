import { describe, it, expect } from 'vitest';
import { normalize } from '../../src/config/scenario.ts';
import { parseDuration } from '../../src/config/units.ts';
import { UsageError } from '../../src/errors.ts';

const problems = (input: unknown): string[] => {
  try {
    normalize(input as never);
  } catch (e) {
    if (e instanceof UsageError) return e.problems;
    throw e;
  }
  return [];
};
const ok = { target: 'http://127.0.0.1:8080', requests: [{ path: '/' }], load: { profile: 'constant', rate: 10, duration: '1s' } };

describe('validation speaks the user\'s words', () => {
  it('a duration without a unit is an error with a suggestion, not 10 ms', () => {
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('0')).toBe(0);
    expect(problems({ ...ok, load: { profile: 'constant', rate: 10, duration: '10' } })).toEqual(['load.duration: "10" has no unit: write "10s" for seconds or "10ms" for milliseconds']);
  });

  it('zod\'s messages become what was expected, what came, and an example, with the path', () => {
    expect(problems({ ...ok, requests: {} })).toEqual(['requests: expected a list, got a mapping (key: value), e.g. requests: [{ name: home, path: / }]']);
    expect(problems({ target: 'http://127.0.0.1:8080', load: ok.load })).toEqual(['requests: missing: expected a list, e.g. requests: [{ name: home, path: / }]']);
    expect(problems({ ...ok, engine: { workers: 1.5 } })[0]).toBe('engine.workers: expected a whole number, got a number, e.g. workers: 2');
    for (const p of problems({ ...ok, requests: {}, engine: { workers: 'two' } })) expect(p).not.toMatch(/Invalid input|Too small|Invalid option/);
  });

  it('a file with only `baseline:` says what a run needs', () => {
    expect(problems({ baseline: null })).toEqual([
      'this scenario has only baseline: a run needs target, requests and load, e.g. target: "http://127.0.0.1:8080", requests: [{ path: / }], load: { profile: constant, rate: 100, duration: 10s }',
    ]);
  });

  it('faults that cannot fire within the planned run are warned about', () => {
    const s = normalize({
      ...ok,
      faults: [
        { name: 'late', kind: 'exec', command: 'true', at: '5s' },
        { name: 'too high', kind: 'exec', command: 'true', atLoad: 50 },
        { name: 'no stage', kind: 'exec', command: 'true', atStage: 4 },
        { name: 'fine', kind: 'exec', command: 'true', at: '100ms', duration: '500ms' },
      ],
    } as never);
    expect(s.warnings).toEqual([
      'fault "late": at 5s is at or after the planned end of the load (1s): it will never fire',
      'fault "too high": atLoad 50 req/s is above the highest planned rate (10 req/s): it will never fire',
      'fault "no stage": atStage 4 does not exist (the run has 1 stages, counted from 0): it will never fire',
    ]);
  });
});
