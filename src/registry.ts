/**
 * A family of variants (fault kinds, toxics, profiles, reporters) as one table
 * keyed by each variant's own `name`, so a name is written once, in its module.
 */
export function byName<T extends { readonly name: string }>(variants: readonly T[]): Record<string, T> {
  const table: Record<string, T> = {};
  for (const v of variants) {
    if (Object.hasOwn(table, v.name)) throw new Error(`two variants are named "${v.name}"`);
    table[v.name] = v;
  }
  return table;
}
