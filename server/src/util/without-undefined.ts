/**
 * A copy without `undefined` values, at any depth (Dates and other class instances are kept as they are).
 * Documents written through the driver directly need it: the driver would store each `undefined` as `null`,
 * where mongoose leaves the field out.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => withoutUndefined(v)) as T;
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) copy[key] = withoutUndefined(v);
  }
  return copy as T;
}
