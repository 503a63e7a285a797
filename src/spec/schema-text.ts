/** The spec's JSON Schema as text, for `berth schema` (kept apart from validate.ts so it does not load ajv). */
import schema from './schema.json' with {type: 'json'};

export function specSchemaText(): string {
  return JSON.stringify(schema, null, 2) + '\n';
}

/** The schema's `$id`. */
export const specSchemaId: string = schema.$id;
