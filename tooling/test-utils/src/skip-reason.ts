/**
 * Why tests that need root cannot run here, or undefined when they can: the sandbox gives PR
 * code a uid of its own only when the worker is root.
 */
export function rootSkipReason(): string | undefined {
  return process.getuid?.() === 0 ? undefined : 'not root (run the tests as root, as CI does, to run it)';
}

/**
 * A test's title that says why it is skipped, when it is: a skip names what this machine lacks,
 * so a reader of the run tells a missing capability from a test that passed.
 */
export function titleSkippedIf(title: string, reason: string | undefined): string {
  return reason === undefined ? title : `${title} — skipped: ${reason}`;
}
