/**
 * Counts the large request bodies being read and held at once. A body of up to 25 MB is
 * buffered whole (its signature covers every byte), so without a bound a few hundred clients
 * announcing 25 MB would hold gigabytes; with it, at most `limit` × 25 MB. Small bodies never
 * pass through here, so ordinary deliveries are never refused for want of a slot.
 */
export class LargeBodyGate {
  #inFlight = 0;

  constructor(readonly limit: number) {}

  /** Large bodies being read or handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Take a slot: a release function (safe to call more than once), or undefined when all are taken. */
  tryEnter(): (() => void) | undefined {
    if (this.#inFlight >= this.limit) return undefined;
    this.#inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight -= 1;
    };
  }
}
