import type { Octokit } from '@octokit/rest';

export type ReactionContent = '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes';

/** React to an issue comment (e.g. 👀 on `/evaluate` when the request is taken). Reacting twice is harmless. */
export async function addReaction(
  octokit: Octokit,
  opts: { owner: string; repo: string; commentId: number; content: ReactionContent },
): Promise<{ id: number }> {
  const { data } = await octokit.rest.reactions.createForIssueComment({
    owner: opts.owner,
    repo: opts.repo,
    comment_id: opts.commentId,
    content: opts.content,
  });
  return { id: data.id };
}
