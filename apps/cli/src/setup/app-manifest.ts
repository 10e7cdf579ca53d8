/**
 * What evalbot needs of GitHub. `app.yml` at the repository root repeats these for people who
 * create the App by hand; a test keeps the two the same.
 */
export const APP_PERMISSIONS = {
  checks: 'write',
  contents: 'read',
  issues: 'write',
  metadata: 'read',
  pull_requests: 'write',
} as const;

export const APP_EVENTS = ['issue_comment', 'pull_request'] as const;

const APP_DESCRIPTION =
  'Trains and evaluates the model of a pull request at its head and base, and reports the difference as a comment and a check run.';

/** A GitHub App manifest (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest). */
export interface AppManifest {
  name: string;
  url: string;
  description: string;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  public: boolean;
  default_permissions: Record<string, 'read' | 'write'>;
  default_events: string[];
}

export function buildAppManifest(opts: {
  name: string;
  /** The App's homepage. */
  homepageUrl: string;
  /** Where GitHub sends webhooks: the gateway's public URL, path included. */
  webhookUrl: string;
  /** Where GitHub sends the browser back with `?code=`. */
  redirectUrl: string;
  public: boolean;
}): AppManifest {
  return {
    name: opts.name,
    url: opts.homepageUrl,
    description: APP_DESCRIPTION,
    hook_attributes: { url: opts.webhookUrl, active: true },
    redirect_url: opts.redirectUrl,
    public: opts.public,
    default_permissions: { ...APP_PERMISSIONS },
    default_events: [...APP_EVENTS],
  };
}

/**
 * The page on GitHub that creates an App from a posted manifest: the user's, or an
 * organisation's with `org`. `state` comes back with the code, proving the redirect is ours.
 */
export function appCreationUrl(githubUrl: string, state: string, org?: string): string {
  const path = org ? `/organizations/${encodeURIComponent(org)}/settings/apps/new` : '/settings/apps/new';
  const url = new URL(path, `${githubUrl.replace(/\/+$/, '')}/`);
  url.searchParams.set('state', state);
  return url.toString();
}
