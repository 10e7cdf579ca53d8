const tails = new Map<string, Promise<unknown>>();

/**
 * Run `fn` after every earlier call with the same key has settled, within this process.
 * Used so two upserts of one PR's comment never both see "no comment yet".
 */
export async function withKeyedLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  try {
    return await run;
  } finally {
    if (tails.get(key) === tail) tails.delete(key);
  }
}
