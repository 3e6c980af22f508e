import { describe, it, expect } from 'vitest';
import { parseClause, splitClauses, type Clause } from '../../src/hypothesis/parse.ts';

const ok = (s: string, allowFor = false) => {
  const c = parseClause(s, { allowFor });
  if (typeof c === 'string') throw new Error(c);
  return c as Clause;
};

describe('hypothesis clauses', () => {
  it('parses the forms users know from k6 and SLOs', () => {
    expect(ok('p99 < 250ms')).toMatchObject({ metric: { type: 'percentile', p: 99 }, op: '<', threshold: 250 });
    expect(ok('p99.9 < 1s')).toMatchObject({ metric: { type: 'percentile', p: 99.9 }, threshold: 1000 });
    expect(ok('p999<1s')).toMatchObject({ metric: { type: 'percentile', p: 99.9 } });
    expect(ok('p(95)<200')).toMatchObject({ metric: { type: 'percentile', p: 95 }, threshold: 200 });
    expect(ok('mean < 20ms').metric.type).toBe('mean');
    expect(ok('max <= 2s')).toMatchObject({ op: '<=', threshold: 2000 });
    expect(ok('errors < 1%')).toMatchObject({ metric: { type: 'errors' }, threshold: 0.01 });
    expect(ok('achieved > 95%')).toMatchObject({ metric: { type: 'achieved' }, op: '>', threshold: 0.95 });
    expect(ok('checkout.p99 < 300ms')).toMatchObject({ scope: 'checkout', threshold: 300 });
    expect(ok('errors > 50% for 5s', true)).toMatchObject({ forMs: 5000, op: '>' });
  });
  it('rejects what it cannot read, with the reason', () => {
    expect(parseClause('p99 <')).toMatch(/cannot parse/);
    expect(parseClause('latency < 3')).toMatch(/cannot parse/);
    expect(parseClause('errors < lots')).toMatch(/percentage/);
    expect(parseClause('p99 < fast')).toMatch(/duration/);
    expect(parseClause('p0 < 1s')).toMatch(/percentile/);
    expect(parseClause('errors > 50% for 5s')).toMatch(/stop conditions/);
    expect(parseClause('checkout.achieved > 90%')).toMatch(/whole run/);
  });
  it('splits a flag value on commas and semicolons', () => {
    expect(splitClauses('p99<250ms, errors<1%;  p50 < 10ms')).toEqual(['p99<250ms', 'errors<1%', 'p50 < 10ms']);
    expect(splitClauses(undefined)).toEqual([]);
  });
});
