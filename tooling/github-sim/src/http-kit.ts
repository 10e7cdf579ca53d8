import type { IncomingMessage } from 'node:http';

const DOCS = 'https://docs.github.com/rest';

/** An answer a route gives; the server adds GitHub's common headers. */
export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Thrown by a route to answer with GitHub's error JSON. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message ?? status));
    this.name = 'SimHttpError';
  }
}

/** `{ message, documentation_url, status }`, as GitHub's REST API answers errors. */
export function githubError(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): SimHttpError {
  return new SimHttpError(
    status,
    { message, documentation_url: DOCS, status: String(status), ...extra },
    headers,
  );
}

export function notFound(): SimHttpError {
  return githubError(404, 'Not Found');
}

/** 422 with GitHub's validation shape. */
export function validationFailed(
  resource: string,
  field: string,
  message: string,
  code = 'custom',
): SimHttpError {
  return githubError(422, 'Validation Failed', { errors: [{ resource, code, field, message }] });
}

/** 422 as GitHub's JSON-schema validation words it (check runs). */
export function invalidRequest(detail: string): SimHttpError {
  return githubError(422, `Invalid request.\n\n${detail}`);
}

/**
 * One page of `items` per `per_page` (default 30, at most 100) and `page`, with a `Link` header
 * like GitHub's (`next`, `last`, `first`, `prev`).
 */
export function paginate<T>(items: T[], url: URL): { items: T[]; headers: Record<string, string> } {
  const perPage = clamp(Number(url.searchParams.get('per_page') ?? 30) || 30, 1, 100);
  const page = Math.max(1, Math.floor(Number(url.searchParams.get('page') ?? 1) || 1));
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const pageUrl = (n: number) => {
    const u = new URL(url);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(n));
    return `<${u.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${pageUrl(page - 1)}; rel="prev"`);
  if (page < lastPage) links.push(`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(lastPage)}; rel="last"`);
  if (page > 1) links.push(`${pageUrl(1)}; rel="first"`);
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}

/** The whole request body, refusing more than `limitBytes`. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) throw githubError(413, 'Request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parse a JSON object body; GitHub answers malformed JSON with 400 "Problems parsing JSON". */
export function parseJsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to GitHub's answer
  }
  throw githubError(400, 'Problems parsing JSON');
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(n)));
}
