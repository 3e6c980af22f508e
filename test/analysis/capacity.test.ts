import { describe, it, expect } from 'vitest';
import { fitUsl } from '../../src/analysis/capacity.ts';

describe('Universal Scalability Law fit', () => {
  it('recovers the parameters of a known USL curve and its peak', () => {
    const sigma = 0.05;
    const kappa = 0.002;
    const lambda = 100;
    const pts = [1, 2, 4, 8, 12, 16, 24, 32, 48].map((n) => ({ offered: n * 100, achieved: (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1)) }));
    const fit = fitUsl(pts);
    if (typeof fit === 'string') throw new Error(fit);
    expect(fit.r2).toBeGreaterThan(0.999);
    expect(fit.sigma).toBeCloseTo(sigma, 2);
    expect(fit.kappa).toBeGreaterThan(kappa * 0.7);
    expect(fit.kappa).toBeLessThan(kappa * 1.3);
    // N* = sqrt((1-σ)/κ) ≈ 21.8 → 2,180 req/s offered.
    expect(fit.peakOffered!).toBeGreaterThan(1900);
    expect(fit.peakOffered!).toBeLessThan(2500);
    expect(fit.poor).toBe(false);
  });
  it('says the fit is poor when throughput does not follow the curve', () => {
    const pts = [100, 200, 300, 400, 500, 600].map((o, i) => ({ offered: o, achieved: i % 2 ? 50 : 600 }));
    const fit = fitUsl(pts);
    if (typeof fit === 'string') throw new Error(fit);
    expect(fit.poor).toBe(true);
    expect(fit.note).toMatch(/poorly/);
  });
  it('needs at least 4 stages', () => {
    expect(fitUsl([{ offered: 1, achieved: 1 }])).toMatch(/at least 4/);
  });
});
