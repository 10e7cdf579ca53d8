import { isoTime, type SimAccount, type SimLabel, type SimRepo, type SimUrls } from './sim-state.ts';

/** GitHub's JSON for accounts, repositories and labels, as the REST API and webhook payloads carry them. */

export function nodeId(prefix: string, id: number): string {
  return Buffer.from(`0${prefix}${id}`).toString('base64').replace(/=+$/, '');
}

export function userJson(account: SimAccount, urls: SimUrls) {
  const login = account.login;
  const userUrl = `${urls.api}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id: account.id,
    node_id: nodeId(
      account.type === 'Bot' ? 'BOT_' : account.type === 'Organization' ? 'O_' : 'U_',
      account.id,
    ),
    avatar_url: `${urls.web}/avatars/u/${account.id}?v=4`,
    gravatar_id: '',
    url: userUrl,
    html_url:
      account.type === 'Bot' ? `${urls.web}/apps/${login.replace(/\[bot\]$/, '')}` : `${urls.web}/${login}`,
    followers_url: `${userUrl}/followers`,
    following_url: `${userUrl}/following{/other_user}`,
    gists_url: `${userUrl}/gists{/gist_id}`,
    starred_url: `${userUrl}/starred{/owner}{/repo}`,
    subscriptions_url: `${userUrl}/subscriptions`,
    organizations_url: `${userUrl}/orgs`,
    repos_url: `${userUrl}/repos`,
    events_url: `${userUrl}/events{/privacy}`,
    received_events_url: `${userUrl}/received_events`,
    type: account.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

export function repositoryJson(repo: SimRepo, urls: SimUrls) {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const api = `${urls.api}/repos/${fullName}`;
  const html = `${urls.web}/${fullName}`;
  return {
    id: repo.id,
    node_id: nodeId('R_', repo.id),
    name: repo.name,
    full_name: fullName,
    private: repo.private,
    owner: userJson(repo.owner, urls),
    html_url: html,
    description: repo.description,
    fork: repo.forkOf !== undefined,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: isoTime(repo.createdAt),
    updated_at: isoTime(repo.pushedAt),
    pushed_at: isoTime(repo.pushedAt),
    git_url: `${urls.web.replace(/^https?:/, 'git:')}/${fullName}.git`,
    ssh_url: `git@${new URL(urls.web).host}:${fullName}.git`,
    clone_url: `${html}.git`,
    svn_url: html,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: 'Python',
    has_issues: true,
    has_projects: true,
    has_downloads: true,
    has_wiki: true,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: repo.private ? 'private' : 'public',
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: repo.defaultBranch,
    ...(repo.forkOf ? { parent: { id: repo.forkOf.id, full_name: fullNameOf(repo.forkOf) } } : {}),
  };
}

export function labelJson(label: SimLabel, repo: SimRepo, urls: SimUrls) {
  return {
    id: label.id,
    node_id: nodeId('LA_', label.id),
    url: `${urls.api}/repos/${fullNameOf(repo)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: false,
    description: label.description,
  };
}

export function fullNameOf(repo: SimRepo): string {
  return `${repo.owner.login}/${repo.name}`;
}
