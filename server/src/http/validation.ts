import type { z } from 'zod';
import { badRequest } from './errors';

/** Validates input against a schema; a failure is a 400 naming each bad field. */
export function validate<T extends z.ZodType>(schema: T, input: unknown, what = 'request'): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`);
  throw badRequest('invalid_input', fields.join('; '), { fields: result.error.issues.map((i) => i.path.join('.')) });
}
