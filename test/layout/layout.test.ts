import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { circles, importGraph } from './imports.ts';

const src = fileURLToPath(new URL('../../src', import.meta.url));

describe('layout of src/', () => {
  const graph = importGraph(src);

  it('reads the import graph (a self-check of the reader)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('result.ts')).toContain('timeline.ts');
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('has no import circle', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('keeps units, the Timeline vocabulary and the registry helper as leaves', () => {
    for (const leaf of ['config/units.ts', 'timeline.ts', 'registry.ts']) expect(graph.get(leaf), leaf).toEqual([]);
  });
});
