import type { Octokit } from '@octokit/rest';

export interface RepoPermission {
  /** GitHub's legacy level: maintain counts as write, triage as read. */
  permission: 'admin' | 'write' | 'read' | 'none';
  /** The actual role (`admin`, `maintain`, `write`, `triage`, `read`, or a custom role). */
  roleName: string;
  /** Write access or more: may ask for an evaluation. */
  canWrite: boolean;
}

/** A user's permission on a repository (`GET /repos/{o}/{r}/collaborators/{u}/permission`). */
export async function getPermission(
  octokit: Octokit,
  opts: { owner: string; repo: string; username: string },
): Promise<RepoPermission> {
  const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
    owner: opts.owner,
    repo: opts.repo,
    username: opts.username,
  });
  const permission = (['admin', 'write', 'read'] as const).find((p) => p === data.permission) ?? 'none';
  return {
    permission,
    roleName: data.role_name ?? permission,
    canWrite: permission === 'admin' || permission === 'write',
  };
}
