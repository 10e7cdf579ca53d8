import { execFile, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { checkCloneUrl } from './check-clone-url.ts';
import type { TreeEntry } from './content-key.ts';
import { InfrastructureError } from './infrastructure-error.ts';
import { LogCollector } from './log-collector.ts';
import { type RunSandboxedOptions, runSandboxed } from './run-sandboxed.ts';
import { diskUsageOver } from './sandbox/disk-usage.ts';
import { formatBytes } from './sandbox/sandbox-limits.ts';
import type { WorkerEnv } from './sandbox-env.ts';

/** A commit on a git server (the worker) or in a local repository (the CLI). */
export type CommitSource =
  | {
      /** Clone URL, e.g. `https://github.com/o/r.git`; must be on `allowedOrigin`. */
      url: string;
      /** Tried in order when the server refuses to fetch `sha` directly, e.g. `refs/pull/7/head`. */
      fetchRefs?: string[];
      sha: string;
      /**
       * The credential, as environment variables for git only (e.g. `GIT_CONFIG_COUNT`,
       * `GIT_CONFIG_KEY_0=http.extraHeader`, `GIT_CONFIG_VALUE_0=Authorization: …` from
       * `gitCredentialEnv(token)` of `@evalbot/github`). Never written to `.git/config`.
       */
      gitEnv?: Record<string, string>;
    }
  | {
      /** A local repository; it is only read (`git fetch` from it), never changed. */
      path: string;
      sha: string;
    };

/** A file read from another commit than the one checked out (`alsoRead`). */
export type OtherCommitFile =
  | { kind: 'file'; text: string }
  | { kind: 'missing' }
  /** Not a regular file, over the size limit, or the commit could not be fetched. */
  | { kind: 'unreadable'; why: string };

export type FetchResult =
  | {
      ok: true;
      alsoRead?: OtherCommitFile;
      /** Every file of the commit (`git ls-tree -r`), read before `.git` is removed. */
      tree: TreeEntry[];
    }
  | { ok: false; message: string; cancelled: boolean };

const GIT_PASSTHROUGH = [
  'PATH',
  'http_proxy',
  'https_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'no_proxy',
  'NO_PROXY',
  'GIT_SSL_CAINFO',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];
// Hooks, fsmonitor, credential helpers and submodules could run programs or read credentials
// the job was not given; redirects could carry the auth header to another host.
const GIT_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'credential.helper=',
  'protocol.ext.allow=never',
  'fetch.recurseSubmodules=false',
  'submodule.recurse=false',
  'http.followRedirects=false',
  'advice.detachedHead=false',
  'init.defaultBranch=main',
  'gc.auto=0',
  'maintenance.auto=false',
].flatMap((setting) => ['-c', setting]);

const MISSING =
  /not our ref|unadvertised object|couldn't find remote ref|no such remote ref|bad object|is not a commit|did not send all necessary objects|invalid refspec/i;
const REFUSED =
  /returned error: 40[134]|authentication failed|could not read (username|password)|terminal prompts disabled|repository not found|does not appear to be a git repository/i;
const execFileAsync = promisify(execFile);
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export interface FetchCommitOptions {
  source: CommitSource;
  /** Where the checkout goes (created). Its `.git` is removed once the commit is checked out. */
  dir: string;
  /** Required for URL sources: clone URLs must be on this origin (`GITHUB_URL`). */
  allowedOrigin?: string | undefined;
  /** An empty directory used as git's HOME, so no user or system git config applies. */
  gitHome: string;
  workerEnv: WorkerEnv;
  timeoutMs: number;
  graceMs: number;
  signal?: AbortSignal | undefined;
  /** Receives a summary line per git command and git's error output when it fails. */
  log: LogCollector;
  secrets: readonly string[];
  onGroup?: RunSandboxedOptions['onGroup'];
  /**
   * One file of another commit of the same repository (the base's `.evalbot.yml` for the head),
   * fetched into the same git directory (only what the checked-out commit lacks) and read as a
   * regular file of at most `maxBytes`, never a symlink.
   */
  alsoRead?: { sha: string; fetchRefs?: string[]; path: string; maxBytes: number };
  /**
   * What the checkout may write: the sum of the commit's file sizes, read from git's objects
   * before anything is checked out (the checkout is written by the worker, outside the
   * sandbox's disk watch). A commit over it is refused. Unset: no bound but the file count.
   */
  maxCheckoutBytes?: number | undefined;
  /** The most files and directories a commit may have; more is refused before checkout. Default {@link MAX_FILES}. */
  maxFiles?: number;
}

/**
 * Files and directories a checkout may hold. Git's index and the tree evalbot keeps grow with
 * it, and one blob (or tree) under many paths packs to almost nothing: a "git bomb" of millions
 * of paths or nested directories costs a few kilobytes to push.
 */
export const MAX_FILES = 300_000;

/**
 * Fetch exactly `source.sha` (depth 1) into `dir` and check it out, without `.git` left
 * behind. Returns a failure for a commit the server no longer has (a force-push race) or a
 * URL off the allowed origin; throws {@link InfrastructureError} when the server cannot be
 * reached, answers 5xx, refuses the credential, or git does not finish in time.
 */
export async function fetchCommit(opts: FetchCommitOptions): Promise<FetchResult> {
  try {
    return await fetchAndCheckOut(opts);
  } catch (error) {
    if (error instanceof CheckoutRefused) return { ok: false, cancelled: false, message: error.message };
    throw error;
  }
}

/** A commit the worker will not (finish to) fetch or check out: the PR is told why. */
class CheckoutRefused extends Error {}

async function fetchAndCheckOut(opts: FetchCommitOptions): Promise<FetchResult> {
  const { source } = opts;
  if (!SHA.test(source.sha)) throw new Error(`"${source.sha}" is not a full commit SHA`);
  let remote: string;
  let display: string;
  let gitEnv: Record<string, string> = {};
  let refs: string[] = [];
  if ('url' in source) {
    if (!opts.allowedOrigin) throw new Error('allowedOrigin is required to fetch from a URL');
    const problem = checkCloneUrl(source.url, opts.allowedOrigin);
    display = problem?.includes('credentials') ? '(a URL with credentials)' : source.url;
    if (problem) {
      return { ok: false, cancelled: false, message: `refused to clone ${display}: ${problem}` };
    }
    remote = source.url;
    gitEnv = source.gitEnv ?? {};
    refs = source.fetchRefs ?? [];
  } else {
    if (!isAbsolute(source.path))
      throw new Error(`the local repository path "${source.path}" must be absolute`);
    remote = source.path;
    display = source.path;
  }

  const env: Record<string, string> = {};
  for (const key of GIT_PASSTHROUGH) {
    const value = opts.workerEnv[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, {
    HOME: opts.gitHome,
    LANG: 'C',
    LC_ALL: 'C', // git's messages are classified below: keep them in English
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GCM_INTERACTIVE: 'never',
    ...gitEnv,
  });
  const secrets = [...opts.secrets, ...credentialValues(gitEnv)];
  const deadline = Date.now() + opts.timeoutMs;
  await mkdir(opts.dir, { recursive: true });

  // What git may write of the fetched objects: the checkout's limit, and room for packing.
  const fetchDisk =
    opts.maxCheckoutBytes === undefined
      ? undefined
      : { paths: [opts.dir], maxBytes: Math.ceil(opts.maxCheckoutBytes * 1.05) + 64 * 1024 * 1024 };
  const git = async (args: string[], cwd: string) => {
    const output = new LogCollector({ secrets, limits: { maxLines: 40, maxBytes: 8 * 1024 } });
    const result = await runSandboxed({
      argv: ['git', ...GIT_CONFIG, ...args],
      cwd,
      env,
      deadline,
      signal: opts.signal,
      log: output,
      graceMs: opts.graceMs,
      sweepEnv: `HOME=${opts.gitHome}`,
      onGroup: opts.onGroup,
      // The fetch writes the PR's objects before anything can list them: watched as a step is.
      disk: args[0] === 'fetch' ? fetchDisk : undefined,
    });
    if (result.limitHit === 'disk' && fetchDisk) {
      throw new CheckoutRefused(
        `fetching ${display} wrote more than ${formatBytes(fetchDisk.maxBytes)}, past the ${formatBytes(opts.maxCheckoutBytes ?? 0)} a checkout may take (EVALBOT_SANDBOX_DISK_MB): make the commit smaller, or ask the operator to raise the limit`,
      );
    }
    const text = output.tail();
    if (result.timedOut) {
      throw new InfrastructureError(
        `git ${args[0]} from ${display} did not finish within ${Math.round(opts.timeoutMs / 1000)} s`,
        true,
      );
    }
    if (result.spawnError) throw new InfrastructureError(`cannot run git: ${result.spawnError}`, false);
    return { ok: result.exitCode === 0, cancelled: result.cancelled, text };
  };
  const cancelled: FetchResult = { ok: false, cancelled: true, message: 'cancelled' };

  const init = await git(['init', '-q', '.'], opts.dir);
  if (init.cancelled) return cancelled;
  if (!init.ok) throw new InfrastructureError(`git init failed: ${init.text}`, false);

  /** Fetch exactly `sha` (depth 1), trying `sha` itself, then each ref that may point at it. */
  const fetchExact = async (
    sha: string,
    refsToTry: string[],
  ): Promise<{ fetched: true } | { fetched: false; tried: string[] } | 'cancelled'> => {
    const tried: string[] = [];
    for (const what of [sha, ...refsToTry]) {
      opts.log.line(`$ git fetch --depth=1 ${display} ${what}`);
      const fetch = await git(['fetch', '-q', '--depth=1', '--no-tags', '--', remote, what], opts.dir);
      if (fetch.cancelled) return 'cancelled';
      if (!fetch.ok) {
        const firstError = fetch.text.split('\n').find((l) => /fatal|error/i.test(l)) ?? fetch.text;
        if (MISSING.test(fetch.text)) {
          tried.push(`${what} (${firstError.replace(/^fatal: /, '').trim()})`);
          continue;
        }
        for (const line of fetch.text.split('\n')) opts.log.line(line);
        if (REFUSED.test(fetch.text)) {
          throw new InfrastructureError(
            `the git server refused to serve ${display}: ${firstError.trim()} — check the App's installation and its access to the repository`,
            false,
          );
        }
        throw new InfrastructureError(`git fetch from ${display} failed: ${firstError.trim()}`, true);
      }
      const head = await git(['rev-parse', '--verify', '-q', 'FETCH_HEAD^{commit}'], opts.dir);
      if (head.cancelled) return 'cancelled';
      const got = head.text.trim();
      if (got === sha) return { fetched: true };
      tried.push(`${what} (now points to ${got.slice(0, 12) || 'nothing'})`);
    }
    return { fetched: false, tried };
  };

  const own = await fetchExact(source.sha, refs);
  if (own === 'cancelled') return cancelled;
  if (!own.fetched) {
    return {
      ok: false,
      cancelled: false,
      message: `commit ${source.sha} is not available from ${display}; tried ${own.tried.join(', ')}. The branch was probably force-pushed or the commit deleted after the evaluation was requested; push again or ask for a new evaluation`,
    };
  }

  // The tree is read from git's objects before the checkout writes anything.
  const listed = await listTree({
    dir: opts.dir,
    env,
    sha: source.sha,
    maxFiles: opts.maxFiles ?? MAX_FILES,
    deadline,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
  });
  if (listed === 'cancelled') return cancelled;
  const tooLarge = checkoutRefusal(listed, opts, source.sha);
  if (tooLarge) return { ok: false, cancelled: false, message: tooLarge };
  const { tree } = listed;

  // The PR's .gitattributes may not make the checkout larger than its objects: `ident` expands
  // every `$Id$` to 47 bytes, `working-tree-encoding` re-encodes (UTF-32: 4×), line-ending
  // conversion doubles a file of newlines; no `filter` is configured here, and none applies all
  // the same. info/attributes overrides every .gitattributes (and macros): files are checked
  // out as the objects hold them, as counted above.
  await mkdir(join(opts.dir, '.git', 'info'), { recursive: true });
  await writeFile(
    join(opts.dir, '.git', 'info', 'attributes'),
    '* -text -ident -working-tree-encoding -filter\n',
  );

  const checkout = await git(['checkout', '-q', '--detach', source.sha], opts.dir);
  if (checkout.cancelled) return cancelled;
  if (!checkout.ok) {
    return {
      ok: false,
      cancelled: false,
      message: `git could not check out ${source.sha}: ${checkout.text.trim()}`,
    };
  }
  let alsoRead: OtherCommitFile | undefined;
  if (opts.alsoRead) {
    const other = opts.alsoRead;
    if (!SHA.test(other.sha)) throw new Error(`"${other.sha}" is not a full commit SHA`);
    const fetched = await fetchExact(other.sha, other.fetchRefs ?? []);
    if (fetched === 'cancelled') return cancelled;
    alsoRead = fetched.fetched
      ? await readAtCommit(opts.dir, env, other)
      : {
          kind: 'unreadable',
          why: `commit ${other.sha} is not available (tried ${fetched.tried.join(', ')})`,
        };
  }
  // PR code must not read git's state (remote URL, config): only the files of the commit stay.
  await rm(join(opts.dir, '.git'), { recursive: true, force: true });
  if (opts.maxCheckoutBytes !== undefined && (await diskUsageOver([opts.dir], opts.maxCheckoutBytes))) {
    return {
      ok: false,
      cancelled: false,
      message: `the checkout of commit ${source.sha.slice(0, 12)} takes more than the ${formatBytes(opts.maxCheckoutBytes)} the job directory may hold (EVALBOT_SANDBOX_DISK_MB): make the commit smaller, or ask the operator to raise the limit`,
    };
  }
  return alsoRead ? { ok: true, alsoRead, tree } : { ok: true, tree };
}

/**
 * `path` at `sha` from the object database: a regular file (mode 100644/100755) within
 * `maxBytes`. Local git commands on objects already fetched, so they are run directly: their
 * output is data, not a log to cap.
 */
async function readAtCommit(
  dir: string,
  env: Record<string, string>,
  { sha, path, maxBytes }: { sha: string; path: string; maxBytes: number },
): Promise<OtherCommitFile> {
  const git = async (args: string[]) => {
    try {
      const { stdout } = await execFileAsync('git', [...GIT_CONFIG, ...args], {
        cwd: dir,
        env,
        encoding: 'utf8',
        maxBuffer: maxBytes + 4096,
        timeout: 60_000,
      });
      return { ok: true as const, stdout };
    } catch (error) {
      return { ok: false as const, why: (error as Error).message.split('\n')[0] ?? 'git failed' };
    }
  };
  // `ls-tree` gives the entry's mode and size without reading it: a symlink's target or a huge
  // blob is never read.
  const entry = await git(['ls-tree', '-l', '-z', sha, '--', path]);
  if (!entry.ok) return { kind: 'unreadable', why: entry.why };
  const match = entry.stdout.match(/^(\d+) (\w+) ([0-9a-f]+) +(-|\d+)\t/);
  if (!match) return { kind: 'missing' };
  const [, mode, type, blob, size] = match as unknown as [string, string, string, string, string];
  if (type !== 'blob' || (mode !== '100644' && mode !== '100755')) {
    return { kind: 'unreadable', why: `${path} is not a regular file at ${sha.slice(0, 12)}` };
  }
  if (Number(size) > maxBytes) {
    return { kind: 'unreadable', why: `${path} is larger than ${maxBytes} bytes at ${sha.slice(0, 12)}` };
  }
  const content = await git(['cat-file', 'blob', blob]);
  if (!content.ok) return { kind: 'unreadable', why: content.why };
  return { kind: 'file', text: content.stdout };
}

/** Why a commit is not checked out (too many files, or more bytes than allowed), if it is not. */
function checkoutRefusal(
  listed: ListedTree,
  opts: Pick<FetchCommitOptions, 'maxCheckoutBytes' | 'maxFiles'>,
  sha: string,
): string | undefined {
  const short = sha.slice(0, 12);
  if (listed.refused === 'files') {
    return `commit ${short} has more than ${(opts.maxFiles ?? MAX_FILES).toLocaleString('en-US')} files and directories: evalbot does not check out a tree that large. Keep data sets out of the repository (download them in \`setup\`) or remove the generated files`;
  }
  if (listed.refused === 'paths') {
    return `commit ${short} has file paths longer than ${MAX_PATH_BYTES} bytes, or more than ${formatBytes(MAX_LISTING_BYTES)} of them in all: evalbot does not check out such a tree. Shorten its directory names`;
  }
  if (opts.maxCheckoutBytes !== undefined && listed.bytes > opts.maxCheckoutBytes) {
    return `checking out commit ${short} would write ${formatBytes(listed.bytes)} (${listed.tree.length.toLocaleString('en-US')} files), more than the ${formatBytes(opts.maxCheckoutBytes)} the job directory may hold (EVALBOT_SANDBOX_DISK_MB): make the commit smaller, or ask the operator to raise the limit`;
  }
  return undefined;
}

/** The longest path git may list (Linux's PATH_MAX): no checkout could write a longer one. */
const MAX_PATH_BYTES = 4096;
/** All paths of a listing together: what the worker reads of a tree at most. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;
/** A file takes whole blocks on the disk, as the disk watch (`du`) counts it. */
const BLOCK_BYTES = 4096;

interface ListedTree {
  tree: TreeEntry[];
  /**
   * What a checkout writes, as the disk watch counts it: each file's size in whole blocks
   * (before line-ending conversion, which the checkout is measured for once written).
   */
  bytes: number;
  /** Listing stopped: more files than allowed, or paths too long (in one or in all). */
  refused?: 'files' | 'paths';
}

/**
 * `git ls-tree -r -l -z --full-tree`: the commit's files with their sizes, from git's objects,
 * never the work tree. Read as a stream and stopped (git killed) once more than `maxFiles`
 * entries, a path over {@link MAX_PATH_BYTES} or over {@link MAX_LISTING_BYTES} in all were
 * read: however large the tree, the worker holds at most that much. Within the fetch's
 * deadline and cancellable by its signal.
 */
async function listTree(opts: {
  dir: string;
  env: Record<string, string>;
  sha: string;
  maxFiles: number;
  deadline: number;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
}): Promise<ListedTree | 'cancelled'> {
  const { sha } = opts;
  if (opts.signal?.aborted) return 'cancelled';
  const child = spawn('git', [...GIT_CONFIG, 'ls-tree', '-r', '-l', '-z', '--full-tree', sha], {
    cwd: opts.dir,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stopped: 'timeout' | 'cancelled' | undefined;
  const stop = (why: 'timeout' | 'cancelled') => {
    stopped ??= why;
    child.kill('SIGKILL');
  };
  const timer = setTimeout(() => stop('timeout'), Math.max(0, opts.deadline - Date.now()));
  const onAbort = () => stop('cancelled');
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const tree: TreeEntry[] = [];
  const strict = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  let directories = 0;
  let lastParents: string[] = [];
  let listingBytes = 0;
  let refused: ListedTree['refused'];
  // An entry's bytes not yet ended by a NUL: at most one path and its fields, so joining the
  // next chunk to them stays linear.
  let rest = Buffer.alloc(0);
  let stderr = '';
  const refuse = (why: 'files' | 'paths') => {
    refused ??= why;
    child.kill('SIGKILL');
  };
  const parse = (raw: Buffer) => {
    const text = raw.toString('utf8');
    const [, mode, type, oid, size, path] = /^(\d+) (\w+) ([0-9a-f]+) +(-|\d+)\t([\s\S]+)$/.exec(text) ?? [];
    if (!(mode && type && oid && size && path)) return;
    if (raw.length > MAX_PATH_BYTES + 256) return refuse('paths');
    // `ls-tree -r` lists a directory's entries together: the directories a path enters that the
    // one before it was not in are new. Each is an inode and a block the checkout writes, which
    // no blob size shows (2,000 nested directories per path cost 8 MB for a 1-byte file).
    // Compared as bytes (latin1 is one character per byte): names that are not UTF-8 would
    // decode alike, and sibling directories `\xff` and `\xfe` would pass for one.
    const parents = raw
      .subarray(raw.indexOf(9) + 1)
      .toString('latin1')
      .split('/');
    parents.pop();
    let shared = 0;
    while (
      shared < parents.length &&
      shared < lastParents.length &&
      parents[shared] === lastParents[shared]
    ) {
      shared++;
    }
    lastParents = parents;
    directories += parents.length - shared;
    bytes += (parents.length - shared) * BLOCK_BYTES;
    if (tree.length + directories >= opts.maxFiles) return refuse('files');
    // A blob's size in whole blocks; a submodule (`-`) is checked out as an empty directory.
    bytes += size === '-' ? BLOCK_BYTES : Math.ceil(Number(size) / BLOCK_BYTES) * BLOCK_BYTES;
    let undecodable = false;
    try {
      strict.decode(raw);
    } catch {
      undecodable = true;
    }
    tree.push({ mode, type, oid, path, ...(undecodable ? { undecodable: true as const } : {}) });
  };
  child.stdout.on('data', (chunk: Buffer) => {
    if (refused || stopped) return;
    listingBytes += chunk.length;
    if (listingBytes > MAX_LISTING_BYTES) return refuse('paths');
    let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    for (let end = data.indexOf(0); end !== -1 && !refused; end = data.indexOf(0)) {
      parse(data.subarray(0, end));
      data = data.subarray(end + 1);
    }
    if (refused) return;
    // Mode, type, object id and size come first: ~120 bytes besides the path.
    if (data.length > MAX_PATH_BYTES + 256) return refuse('paths');
    rest = Buffer.from(data);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  let exit: [number | null, NodeJS.Signals | null];
  try {
    exit = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve([code, signal]));
    });
  } catch (error) {
    throw new InfrastructureError(`git ls-tree ${sha} could not run: ${(error as Error).message}`, true);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (refused) return { tree, bytes, refused };
  if (stopped === 'cancelled') return 'cancelled';
  if (stopped === 'timeout') {
    throw new InfrastructureError(
      `git ls-tree ${sha} did not finish within ${Math.round(opts.timeoutMs / 1000)} s`,
      true,
    );
  }
  const [code, signal] = exit;
  if (code !== 0) {
    throw new InfrastructureError(
      `git ls-tree ${sha} failed: ${stderr.split('\n')[0] || (signal ? `killed by ${signal}` : `exit ${code}`)}`,
      true,
    );
  }
  if (rest.length > 0) parse(rest);
  return refused ? { tree, bytes, refused } : { tree, bytes };
}

/** Values of credential variables and the token inside an `Authorization: <scheme> <token>` header. */
function credentialValues(gitEnv: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(gitEnv)) {
    if (!/^GIT_CONFIG_VALUE_\d+$/.test(key) && !/TOKEN|PASSWORD|SECRET/i.test(key)) continue;
    out.push(value);
    const token = value.match(/^\s*authorization:\s*\S+\s+(\S+)/i)?.[1];
    if (token) {
      out.push(token);
      // Basic credentials are base64("x-access-token:<token>"): redact the decoded token too.
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const password = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : '';
      if (/^[\x21-\x7e]{6,}$/.test(password)) out.push(password);
    }
  }
  return out;
}
