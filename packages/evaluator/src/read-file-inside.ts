import { constants } from 'node:fs';
import { lstat, open, realpath, unlink } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';

export type UnsafeFileReason = 'missing' | 'symlink' | 'outside' | 'not-a-file' | 'too-big' | 'not-text';

/** A file written by PR code that evalbot refuses to read; `message` completes "`<file>` …". */
export class UnsafeFileError extends Error {
  constructor(
    readonly reason: UnsafeFileReason,
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeFileError';
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/**
 * The path of `relPath` under `root` with every directory on the way checked with `lstat`: a
 * symlinked directory is followed only when it stays inside `root` (its real path is used from
 * then on). The last component is not resolved. The caller runs this when no process of the
 * job is alive (the sandbox's steps are over), so nothing can change the path in between.
 */
async function pathInside(rootReal: string, relPath: string): Promise<string> {
  const target = resolve(rootReal, relPath);
  if (!isInside(rootReal, target) || target === rootReal) {
    throw new UnsafeFileError('outside', 'is outside the directory');
  }
  const parts = relative(rootReal, target).split(sep);
  let current = rootReal;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = join(current, parts[i] ?? '');
    const stats = await lstat(next).catch(() => undefined);
    if (!stats) return join(next, ...parts.slice(i + 1));
    if (stats.isSymbolicLink()) {
      const real = await realpath(next).catch(() => undefined);
      if (!real || !isInside(rootReal, real)) {
        throw new UnsafeFileError('outside', 'resolves outside the directory (through a symbolic link)');
      }
      current = real;
    } else if (stats.isDirectory()) {
      current = next;
    } else {
      throw new UnsafeFileError('missing', 'does not exist');
    }
  }
  return join(current, parts.at(-1) ?? '');
}

/**
 * Read `relPath` under `root` as UTF-8 text, refusing what a hostile checkout could use to make
 * the worker read something else: a symlink, a directory on the way that links outside `root`,
 * a FIFO or device (never opened), or more than `maxBytes`.
 */
export async function readFileInside(root: string, relPath: string, maxBytes: number): Promise<string> {
  const rootReal = await realpath(root);
  const path = await pathInside(rootReal, relPath);
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!stats) throw new UnsafeFileError('missing', 'does not exist');
  if (stats.isSymbolicLink()) {
    throw new UnsafeFileError('symlink', 'is a symbolic link; evalbot reads only regular files');
  }
  if (!stats.isFile()) throw new UnsafeFileError('not-a-file', 'is not a regular file');
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw new UnsafeFileError('symlink', 'is a symbolic link; evalbot reads only regular files');
    if (code === 'ENOENT') throw new UnsafeFileError('missing', 'does not exist');
    throw error;
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile() || opened.ino !== stats.ino || opened.dev !== stats.dev) {
      throw new UnsafeFileError('not-a-file', 'is not a regular file');
    }
    if (opened.size > maxBytes) {
      throw new UnsafeFileError('too-big', `is ${opened.size} bytes, over the ${maxBytes}-byte limit`);
    }
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) {
        throw new UnsafeFileError('too-big', `is over the ${maxBytes}-byte limit`);
      }
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } catch {
      throw new UnsafeFileError('not-text', 'is not UTF-8 text');
    }
  } finally {
    await handle.close();
  }
}

/**
 * Remove the file (or symlink) `relPath` under `root` if it is one, without following a
 * symlinked directory out of `root`: a checkout can hold `out -> /etc`, and the worker may be root.
 */
export async function unlinkInside(root: string, relPath: string): Promise<boolean> {
  const rootReal = await realpath(root);
  const path = await pathInside(rootReal, relPath).catch(() => undefined);
  if (!path) return false;
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return false;
  if (stats.isDirectory()) return false;
  return unlink(path).then(
    () => true,
    () => false,
  );
}
