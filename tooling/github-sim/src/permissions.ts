import { githubError } from './http-kit.ts';

export type PermissionLevel = 'read' | 'write';
export type Permissions = Record<string, PermissionLevel>;

/** The App's permissions (as app.yml asks for them); installations grant them by default. */
export const APP_PERMISSIONS: Readonly<Permissions> = {
  checks: 'write',
  contents: 'read',
  issues: 'write',
  metadata: 'read',
  pull_requests: 'write',
};

/**
 * What a route needs of an installation token: any one of these permissions at this level
 * (GitHub lets `issues` or `pull_requests` write a pull request's comments and labels).
 */
export type PermissionNeed = readonly (readonly [name: string, level: PermissionLevel])[];

/**
 * Whether a token meets `need`: its own permissions (null when not narrowed) within what its
 * installation granted now (an owner may have taken a permission back since it was minted).
 */
export function tokenGrants(
  token: { permissions: Permissions | null },
  installation: { permissions: Permissions },
  need: PermissionNeed,
): boolean {
  return (
    grants(installation.permissions, need) && (token.permissions === null || grants(token.permissions, need))
  );
}

/** Whether `have` meets `need`. */
export function grants(have: Permissions, need: PermissionNeed): boolean {
  return need.some(([name, level]) => {
    // A token scoped to some permissions still reads the repositories' metadata, as on GitHub.
    const got = have[name] ?? (name === 'metadata' ? 'read' : undefined);
    return got === 'write' || (got === 'read' && level === 'read');
  });
}

/**
 * The `permissions` of `POST /app/installations/{id}/access_tokens`, or null when none were
 * asked (the token gets all of the installation's). Asking for more than the installation
 * granted is refused with GitHub's 422.
 */
export function requestedPermissions(
  body: Record<string, unknown>,
  granted: Permissions,
): Permissions | null {
  const asked = body.permissions;
  if (asked === undefined) return null;
  if (typeof asked !== 'object' || asked === null || Array.isArray(asked)) {
    throw githubError(422, "Invalid request.\n\nFor 'properties/permissions', it is not an object.");
  }
  const out: Permissions = {};
  for (const [name, level] of Object.entries(asked)) {
    if (level !== 'read' && level !== 'write') {
      throw githubError(
        422,
        `Invalid request.\n\n${JSON.stringify(level)} is not a permission level of ${name}.`,
      );
    }
    if (!grants(granted, [[name, level]])) {
      throw githubError(422, 'The permissions requested are not granted to this installation.');
    }
    out[name] = level;
  }
  return out;
}

/** What the REST routes need: GitHub's "Permissions required for GitHub Apps" of each endpoint. */
export const METADATA_READ: PermissionNeed = [['metadata', 'read']];
export const CHECKS_READ: PermissionNeed = [['checks', 'read']];
export const CHECKS_WRITE: PermissionNeed = [['checks', 'write']];
export const PULLS_READ: PermissionNeed = [['pull_requests', 'read']];
/** A pull request's comments, reactions and labels: `issues` or `pull_requests`. */
export const ISSUES_READ: PermissionNeed = [
  ['issues', 'read'],
  ['pull_requests', 'read'],
];
export const ISSUES_WRITE: PermissionNeed = [
  ['issues', 'write'],
  ['pull_requests', 'write'],
];
