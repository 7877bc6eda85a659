// An asynchronous result made once and kept, unless it failed: the keyrings built from the
// configuration and the keychain (crypto/keyrings.ts, store/record-reader.ts, catalog/).

/**
 * A function that gives `make()`'s promise, made on the first call and kept; a promise that
 * rejects is forgotten, so a later call makes it again (a key file restored, a keychain unlocked)
 * instead of failing for the life of the process.
 */
export function keptUnlessRejected<T>(make: () => Promise<T>): () => Promise<T> {
  let kept: Promise<T> | null = null;
  return () => {
    if (!kept) {
      const made = make();
      kept = made;
      made.catch(() => { if (kept === made) kept = null; });
    }
    return kept;
  };
}
