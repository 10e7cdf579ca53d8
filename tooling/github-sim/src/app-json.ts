import { APP_PERMISSIONS } from './permissions.ts';
import { nodeId, userJson } from './repository-json.ts';
import { isoTime, type SimApp, type SimInstallation, type SimState, type SimUrls } from './sim-state.ts';

/** GitHub's JSON for the App and its installations. */

export function appJson(app: SimApp, urls: SimUrls) {
  return {
    id: app.id,
    client_id: app.clientId,
    slug: app.slug,
    node_id: nodeId('A_', app.id),
    owner: userJson(app.owner, urls),
    name: app.name,
    description: '',
    external_url: urls.web,
    html_url: `${urls.web}/apps/${app.slug}`,
    created_at: isoTime(app.createdAt),
    updated_at: isoTime(app.createdAt),
    permissions: { ...APP_PERMISSIONS },
    events: ['issue_comment', 'pull_request'],
    installations_count: 0,
  };
}

export function installationJson(installation: SimInstallation, state: SimState, urls: SimUrls) {
  return {
    id: installation.id,
    account: userJson(installation.account, urls),
    repository_selection: installation.repositorySelection,
    access_tokens_url: `${urls.api}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.web}/settings/installations/${installation.id}`,
    app_id: state.app.id,
    app_slug: state.app.slug,
    client_id: state.app.clientId,
    target_id: installation.account.id,
    target_type: installation.account.type,
    permissions: { ...installation.permissions },
    events: appJson(state.app, urls).events,
    created_at: isoTime(installation.createdAt),
    updated_at: isoTime(installation.createdAt),
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}
