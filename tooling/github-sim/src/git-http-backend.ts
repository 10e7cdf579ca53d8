import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';

export interface GitCgiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** Directory holding `<owner>/<repo>.git`. */
  projectRoot: string;
  /** `/<owner>/<repo>.git/<info/refs|git-upload-pack|…>` */
  pathInfo: string;
  query: string;
  remoteUser?: string;
}

/**
 * Serve git's smart HTTP protocol by running `git http-backend` as a CGI script: request body
 * streamed in (gzip-encoded bodies are inflated by git itself via `HTTP_CONTENT_ENCODING`),
 * CGI headers parsed, response streamed out. Resolves when the response is finished.
 */
export function serveGitCgi({
  req,
  res,
  projectRoot,
  pathInfo,
  query,
  remoteUser,
}: GitCgiRequest): Promise<void> {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: pathInfo,
    QUERY_STRING: query,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: header('content-type') ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    REMOTE_USER: remoteUser ?? '',
  };
  const optional: Record<string, string | undefined> = {
    CONTENT_LENGTH: header('content-length'),
    HTTP_CONTENT_ENCODING: header('content-encoding'),
    // Protocol v2 is negotiated through this header; without it git falls back to v0.
    GIT_PROTOCOL: header('git-protocol'),
  };
  for (const [key, value] of Object.entries(optional)) if (value) env[key] = value;

  return new Promise((resolve) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: Buffer[] = [];
    let head = Buffer.alloc(0);
    let headersSent = false;

    const fail = (message: string) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${message}\n`);
      } else res.destroy();
    };

    req.pipe(child.stdin);
    // The client may hang up, or git may stop reading early (e.g. a refused request).
    child.stdin.on('error', () => {});
    req.on('aborted', () => child.kill('SIGKILL'));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) => fail(`git http-backend failed to start: ${error.message}`));

    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        if (!res.write(chunk)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      const split = findHeaderEnd(head);
      if (!split) return;
      const { status, headers } = parseCgiHeaders(head.subarray(0, split.index).toString('latin1'));
      res.writeHead(status, headers);
      headersSent = true;
      const rest = head.subarray(split.index + split.length);
      if (rest.length > 0) res.write(rest);
    });

    child.once('close', (code) => {
      if (!headersSent)
        fail(`git http-backend exited with ${code}: ${Buffer.concat(stderr).toString('utf8')}`);
      else res.end();
      resolve();
    });
  });
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { index: crlf, length: 4 };
  if (lf >= 0) return { index: lf, length: 2 };
  return undefined;
}

function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
    else headers[name] = value;
  }
  return { status, headers };
}
