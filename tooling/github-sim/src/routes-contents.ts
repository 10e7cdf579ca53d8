import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ApiRoute, RouteContext } from './api-router.ts';
import { git } from './git-repos.ts';
import { githubError, notFound } from './http-kit.ts';
import type { SimRepo } from './sim-state.ts';

const execFileAsync = promisify(execFile);
/** GitHub answers files over 1 MB without their content (`encoding: "none"`). */
const MAX_CONTENT_BYTES = 1024 * 1024;

/**
 * `GET /repos/{owner}/{repo}/contents/{path}?ref=` — a file (base64, wrapped at 60 columns as
 * GitHub sends it) or a directory listing, at a branch, tag or commit SHA (default: the default
 * branch). Read from the bare repository with real git. A symlink is answered as GitHub does
 * when its target is not a regular file of the repository: `type: "symlink"` with its `target`.
 */
export const contentRoutes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos/:owner/:repo/contents/*',
    access: 'repo',
    handle: async (ctx) => {
      const path = decodeURIComponent(
        /\/repos\/[^/]+\/[^/]+\/contents\/?(.*)$/.exec(ctx.url.pathname)?.[1] ?? '',
      ).replace(/\/+$/, '');
      const ref = ctx.url.searchParams.get('ref') ?? ctx.repo.defaultBranch;
      const commit = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
        gitDir: ctx.repo.gitDir,
      }).catch(() => '');
      if (!commit) throw githubError(404, `No commit found for the ref ${ref}`);
      if (path === '') return { status: 200, body: await listing(ctx, commit, '', ref) };
      const entry = await git(['ls-tree', '--full-tree', commit, '--', path], { gitDir: ctx.repo.gitDir });
      const match = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/.exec(entry);
      if (!match || match[4] !== path) throw notFound();
      const [, mode, type, sha] = match as unknown as [string, string, string, string];
      if (type === 'tree') return { status: 200, body: await listing(ctx, commit, path, ref) };
      const item = itemJson(ctx, ctx.repo, { path, sha, type: kindOf(mode, type), ref });
      const blob = type === 'blob' ? await readBlob(ctx.repo.gitDir, sha) : Buffer.alloc(0);
      if (mode === '120000') return { status: 200, body: { ...item, target: blob.toString('utf8') } };
      if (type !== 'blob') return { status: 200, body: item };
      const tooBig = blob.length > MAX_CONTENT_BYTES;
      return {
        status: 200,
        body: {
          ...item,
          size: blob.length,
          encoding: tooBig ? 'none' : 'base64',
          content: tooBig ? '' : wrap(blob.toString('base64')),
        },
      };
    },
  },
];

function kindOf(mode: string, type: string): 'file' | 'dir' | 'symlink' | 'submodule' {
  if (mode === '120000') return 'symlink';
  if (type === 'tree') return 'dir';
  if (type === 'commit') return 'submodule';
  return 'file';
}

async function readBlob(gitDir: string, sha: string): Promise<Buffer> {
  const { stdout } = await execFileAsync('git', [`--git-dir=${gitDir}`, 'cat-file', 'blob', sha], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

function wrap(base64: string): string {
  return `${base64.replace(/.{60}/g, '$&\n')}\n`;
}

async function listing(ctx: RouteContext & { repo: SimRepo }, commit: string, dir: string, ref: string) {
  const out = await git(['ls-tree', '-l', '--full-tree', commit, ...(dir === '' ? [] : ['--', `${dir}/`])], {
    gitDir: ctx.repo.gitDir,
  });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [meta = '', path = ''] = line.split('\t');
      const [mode = '', type = '', sha = '', size = '-'] = meta.split(/\s+/);
      const item = itemJson(ctx, ctx.repo, { path, sha, type: kindOf(mode, type), ref });
      return { ...item, size: size === '-' ? 0 : Number(size) };
    });
}

function itemJson(
  ctx: RouteContext,
  repo: SimRepo,
  item: { path: string; sha: string; type: string; ref: string },
) {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const self = `${ctx.urls.api}/repos/${fullName}/contents/${item.path}?ref=${encodeURIComponent(item.ref)}`;
  const gitUrl = `${ctx.urls.api}/repos/${fullName}/git/${item.type === 'dir' ? 'trees' : 'blobs'}/${item.sha}`;
  const html = `${ctx.urls.web}/${fullName}/${item.type === 'dir' ? 'tree' : 'blob'}/${item.ref}/${item.path}`;
  return {
    type: item.type,
    size: 0,
    name: item.path.split('/').pop() ?? item.path,
    path: item.path,
    sha: item.sha,
    url: self,
    git_url: gitUrl,
    html_url: html,
    download_url: item.type === 'file' ? `${ctx.urls.web}/raw/${fullName}/${item.ref}/${item.path}` : null,
    _links: { self, git: gitUrl, html },
  };
}
