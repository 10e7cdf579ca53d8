import { createSandbox, type Sandbox } from './sandbox/index.ts';

let made: Promise<Sandbox> | undefined;

/**
 * The sandbox `evaluateCommit` uses when given none: made (and checked) once per process with
 * the default limits. A failed check is not kept, so a fixed host can try again.
 */
export function defaultSandbox(): Promise<Sandbox> {
  if (!made) {
    made = createSandbox();
    made.catch(() => {
      made = undefined;
    });
  }
  return made;
}
