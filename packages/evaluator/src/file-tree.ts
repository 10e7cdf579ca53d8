import { rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';

/**
 * Remove a directory tree even when PR code made parts of it read-only (`chmod 000 dir`),
 * which plain `rm -rf` as a non-root worker cannot delete, or nested it deeper than a path
 * can name.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 2 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY' && code !== 'ENAMETOOLONG') throw error;
    // rm walks with file descriptors: it removes trees nested past PATH_MAX too.
    await execa('chmod', ['-R', 'u+rwx', path], { reject: false });
    await execa('rm', ['-rf', '--one-file-system', '--', path]);
  }
}

/** A uid and gid that files are handed to. */
export interface FileOwner {
  uid: number;
  gid: number;
}

/** `chown -R` without following symlinks (PR code may have planted some). */
export async function chownTree(path: string, user: FileOwner): Promise<void> {
  // Only what is not theirs yet: a chown clears setuid bits and file capabilities even when the
  // owner stays, and a derived environment's files are inodes it shares with another one.
  const { uid, gid } = user;
  await execa(
    'find',
    ['-P', path, '(', '!', '-uid', `${uid}`, '-o', '!', '-gid', `${gid}`, ')'].concat([
      '-exec',
      'chown',
      '-h',
      `${uid}:${gid}`,
      '{}',
      '+',
    ]),
  );
}

/** Take write permission from group and others throughout a tree (symlinks are skipped). */
export async function denyWritesByOthers(path: string): Promise<void> {
  // Only where it is granted: shared inodes of a derived environment are left as they are.
  await execa('find', ['-P', path, '!', '-type', 'l', '-perm', '/022', '-exec', 'chmod', 'go-w', '{}', '+']);
}

/**
 * Throw unless `user` can reach `path` (search permission on every ancestor): the job and
 * cache directories and the Python interpreter must be reachable by the uids PR code runs as.
 */
export async function assertReachableBy(
  path: string,
  user: FileOwner,
  what: string,
  who = `uid ${user.uid}`,
): Promise<void> {
  let current = path;
  for (;;) {
    const st = await stat(current);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new Error(
        `${what} ${path} is not reachable by ${who}: ${current} lacks search (x) permission for it; make it traversable (chmod o+x) or move it`,
      );
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}
