import { constants } from 'node:fs';
import { lstat, open, readlink, realpath, unlink } from 'node:fs/promises';
import { basename, dirname, relative, resolve, sep } from 'node:path';

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
 * Read `relPath` under `root` as UTF-8 text, refusing what a hostile checkout could use to make
 * the worker read something else: a symlink, a path resolving outside `root`, a FIFO or device,
 * or more than `maxBytes`. The check is made on the opened descriptor, so swapping the file
 * after the check does not help.
 */
export async function readFileInside(root: string, relPath: string, maxBytes: number): Promise<string> {
  const rootReal = await realpath(root);
  const path = resolve(rootReal, relPath);
  if (!isInside(rootReal, path)) throw new UnsafeFileError('outside', 'is outside the directory');
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!stats) throw new UnsafeFileError('missing', 'does not exist');
  if (stats.isSymbolicLink()) {
    throw new UnsafeFileError('symlink', 'is a symbolic link; evalbot reads only regular files');
  }
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
    if (!opened.isFile()) throw new UnsafeFileError('not-a-file', 'is not a regular file');
    // A directory component may be a symlink: check where the descriptor really points.
    const actual = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => realpath(path));
    if (!isInside(rootReal, actual)) {
      throw new UnsafeFileError('outside', 'resolves outside the directory (through a symbolic link)');
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
 * Remove the file (or symlink) `relPath` under `root` if it is one, without following
 * symlinks in its directories: a checkout can hold `out -> /etc`, and the worker may be root.
 */
export async function unlinkInside(root: string, relPath: string): Promise<void> {
  const rootReal = await realpath(root);
  const path = resolve(rootReal, relPath);
  const parent = await realpath(dirname(path)).catch(() => undefined);
  if (!parent || !isInside(rootReal, parent)) return;
  const target = resolve(parent, basename(path));
  const stats = await lstat(target).catch(() => undefined);
  if (stats && !stats.isDirectory()) await unlink(target).catch(() => {});
}
