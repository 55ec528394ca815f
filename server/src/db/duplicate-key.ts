/** The server's code for an insert refused on a unique key (the portable way to tell: code, on insert only). */
export const DUPLICATE_KEY_CODE = 11000;

/** Whether an insert failed because a document with the same `_id` (or unique key) exists. */
export const isDuplicateKey = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === DUPLICATE_KEY_CODE;

/** Runs an insert that decides something once: true when it went in, false when the key was already taken. */
export async function insertedOnce(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}
