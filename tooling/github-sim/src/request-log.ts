import { compilePathPattern, matchPath } from './route-pattern.ts';

/** One request the sim answered. */
export interface RecordedRequest {
  method: string;
  /** API paths relative to the API base (`/repos/o/r/check-runs`); git and web paths as sent. */
  path: string;
  query: string;
  surface: 'api' | 'git' | 'web';
  status: number;
  /** Request headers, lower-cased, without `authorization` or `cookie`. */
  headers: Record<string, string>;
  /** How the caller authenticated (never the credential itself). */
  auth: 'none' | 'jwt' | 'token' | 'basic';
  /** Set when a fault was injected into this request. */
  fault?: string;
  startedAt: number;
  durationMs: number;
}

/** Every request in arrival order, and a filter by route pattern (`"POST /app/installations/:id/access_tokens"`). */
export class RequestLog {
  readonly entries: RecordedRequest[] = [];

  add(entry: RecordedRequest): void {
    this.entries.push(entry);
  }

  /** Requests matching `"METHOD /pattern"` or `"/pattern"`; see {@link compilePathPattern}. */
  matching(route: string): RecordedRequest[] {
    const match = /^([A-Za-z]+)\s+(\S+)$/.exec(route.trim());
    const method = match?.[1]?.toUpperCase();
    const pattern = compilePathPattern(match?.[2] ?? route.trim());
    return this.entries.filter(
      (e) => (!method || e.method === method) && matchPath(pattern, e.path) !== undefined,
    );
  }

  clear(): void {
    this.entries.length = 0;
  }
}

export function authKind(authorization: string | undefined): RecordedRequest['auth'] {
  if (!authorization) return 'none';
  const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'basic') return 'basic';
  return value.startsWith('eyJ') ? 'jwt' : 'token';
}

export function loggableHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'authorization' || name === 'cookie') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
