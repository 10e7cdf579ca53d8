/** An invalid `.evalbot.yml`: names the key, the problem and the fix, for the PR comment. */
export class RepoConfigError extends Error {
  readonly code = 'EVALBOT_REPO_CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly problems: { key: string; problem: string; fix: string }[],
  ) {
    super(
      `${file} is invalid:\n${problems.map((p) => `- \`${p.key}\`: ${p.problem} — ${p.fix}`).join('\n')}`,
    );
    this.name = 'RepoConfigError';
  }
}
