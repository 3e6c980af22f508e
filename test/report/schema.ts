/** The result JSON Schema, compiled once with ajv, for tests that validate real results. */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';

const schema = JSON.parse(readFileSync(new URL('../../schema/result.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(schema);

/** Schema errors of `v`, as "path: message" lines (empty when valid). */
export function schemaErrors(v: unknown): string[] {
  return validate(v) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}`);
}
