/** A configuration problem; the message lists every bad variable and how to fix it. */
export class ConfigError extends Error {
  readonly code = 'EVALBOT_CONFIG_INVALID';
  constructor(readonly problems: { variable: string; problem: string }[]) {
    super(
      `Invalid configuration — fix these environment variables (see .env.example):\n${problems
        .map((p) => `  - ${p.variable}: ${p.problem}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}
