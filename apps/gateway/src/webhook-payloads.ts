import { z } from 'zod';

// Only the fields the gateway reads; GitHub sends many more, which are ignored (not rejected).
const login = z.object({ login: z.string() });

const repositorySchema = z.object({
  id: z.number(),
  name: z.string().min(1),
  owner: login,
  html_url: z.string(),
  clone_url: z.string(),
});

const installationSchema = z.object({ id: z.number().int().positive() }).nullish();

export const pullRequestPayloadSchema = z.object({
  action: z.string(),
  number: z.number().int().positive(),
  label: z.object({ name: z.string() }).nullish(),
  pull_request: z.object({
    number: z.number().int().positive(),
    state: z.string(),
    updated_at: z.string().nullish(),
    user: login.nullish(),
    labels: z.array(z.object({ name: z.string() })).default([]),
    head: z.object({
      sha: z.string(),
      ref: z.string(),
      // null when the fork was deleted
      repo: z.object({ id: z.number() }).nullish(),
    }),
    base: z.object({ sha: z.string(), ref: z.string(), repo: z.object({ id: z.number() }) }),
  }),
  repository: repositorySchema,
  installation: installationSchema,
  sender: login,
});
export type PullRequestPayload = z.infer<typeof pullRequestPayloadSchema>;

export const issueCommentPayloadSchema = z.object({
  action: z.string(),
  issue: z.object({
    number: z.number().int().positive(),
    pull_request: z.object({}).nullish(),
  }),
  comment: z.object({ id: z.number().int().positive(), body: z.string().nullish() }),
  repository: repositorySchema,
  installation: installationSchema,
  sender: login.extend({ type: z.string().optional() }),
});
export type IssueCommentPayload = z.infer<typeof issueCommentPayloadSchema>;

/** `path: problem; path: problem` — what a signed but malformed payload lacks. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`)
    .join('; ');
}
