import { constants } from 'node:fs';
import { appendFile, lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface JobLogFilesOptions {
  /** EVALBOT_JOB_LOG_DIR: one `<job id>.log` per job. */
  dir: string;
  /** A job's file is moved to `<job id>.log.1` (replacing the last one) when it reaches this size. */
  maxFileBytes: number;
  /** The oldest files are removed while the directory holds more than this. */
  maxTotalBytes: number;
  /** A write that failed (full disk, …): reported, never fatal to the job. */
  onError?: (error: Error) => void;
  now?: () => Date;
}

/** One job's log file, open while the job runs. */
export interface JobLogFile {
  readonly path: string;
  /** Append one line (buffered; written within a second, or when the buffer fills). */
  write(line: string): void;
  /** Write what is buffered now. */
  flush(): Promise<void>;
  /** Write what is buffered and let the file be pruned. */
  close(): Promise<void>;
}

const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 1_000;
/**
 * Output buffered or waiting for the disk, at most: a training printing faster than the disk
 * writes would otherwise grow the worker's memory without bound. Beyond it lines are dropped,
 * and the file says how many.
 */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024;

/**
 * A job's whole output on the worker's disk: Redis keeps only a bounded tail of each job's log
 * (`JOB_LOG_LIMITS`), so this is where an operator reads everything a training printed. Files are
 * rotated by size, and the directory is kept under a total size by removing the oldest files.
 */
export class JobLogFiles {
  private readonly open = new Set<string>();

  constructor(private readonly opts: JobLogFilesOptions) {}

  /** The file of `jobId`; a retried job appends to the same file after an `attempt` line. */
  async openJob(jobId: string, header: string): Promise<JobLogFile> {
    try {
      // The worker's alone: other jobs' output is not for PR code, nor for other local users.
      await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
      await assertOwnPrivateDir(this.opts.dir);
    } catch (error) {
      // A disk log that cannot be written must not fail the job: Redis still has its tail.
      this.opts.onError?.(error as Error);
      return { path: '', write: () => {}, flush: async () => {}, close: async () => {} };
    }
    const path = join(this.opts.dir, `${jobId.replace(/[^A-Za-z0-9._-]/g, '_')}.log`);
    this.open.add(path);
    await this.prune();
    let size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    let buffer: string[] = [];
    let buffered = 0;
    // Bytes handed to a write that has not finished yet.
    let inWrite = 0;
    let dropped = 0;
    let timer: NodeJS.Timeout | undefined;
    let writing: Promise<void> = Promise.resolve();
    const now = this.opts.now ?? (() => new Date());

    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (dropped > 0) {
        buffer.push(
          `${now().toISOString()} [evalbot: ${dropped} lines dropped here: the output came faster than the disk took it]\n`,
        );
        dropped = 0;
      }
      if (buffer.length === 0) return writing;
      const chunk = buffer.join('');
      buffer = [];
      inWrite += buffered;
      const chunkBytes = buffered;
      buffered = 0;
      writing = writing.then(async () => {
        try {
          if (size > 0 && size + Buffer.byteLength(chunk) > this.opts.maxFileBytes) {
            await rename(path, `${path}.1`);
            size = 0;
          }
          await appendNoFollow(path, chunk);
          size += Buffer.byteLength(chunk);
        } catch (error) {
          this.opts.onError?.(error as Error);
        } finally {
          inWrite -= chunkBytes;
        }
      });
      return writing;
    };
    const file: JobLogFile = {
      path,
      write: (line) => {
        const text = `${now().toISOString()} ${line}\n`;
        if (buffered + inWrite + text.length > MAX_PENDING_BYTES) {
          dropped += 1;
          return;
        }
        buffer.push(text);
        buffered += text.length;
        if (buffered >= FLUSH_BYTES) void flush();
        else timer ??= setTimeout(() => void flush(), FLUSH_MS).unref();
      },
      flush: () => flush(),
      close: async () => {
        await flush();
        this.open.delete(path);
        await this.prune();
      },
    };
    file.write(header);
    return file;
  }

  /** Remove the oldest files (never one being written) until the directory fits `maxTotalBytes`. */
  async prune(): Promise<string[]> {
    const names = await readdir(this.opts.dir).catch(() => [] as string[]);
    const files = (
      await Promise.all(
        names
          .filter((name) => /\.log(\.1)?$/.test(name))
          .map((name) =>
            stat(join(this.opts.dir, name)).then(
              (s) => ({ path: join(this.opts.dir, name), size: s.size, mtimeMs: s.mtimeMs }),
              () => undefined,
            ),
          ),
      )
    ).filter((f) => f !== undefined);
    let total = files.reduce((sum, f) => sum + f.size, 0);
    const removed: string[] = [];
    for (const file of files.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      if (total <= this.opts.maxTotalBytes) break;
      if (this.open.has(file.path) || this.open.has(file.path.replace(/\.1$/, ''))) continue;
      await unlink(file.path).catch(() => {});
      total -= file.size;
      removed.push(file.path);
    }
    return removed;
  }
}

/**
 * Refuse a log directory that is not this process's own: `mkdir` keeps one that exists, and in
 * a shared place (the default is beside the work directory, /tmp on a plain host) another local
 * user could have made it first — to read every job's output, or to swap a log for a symlink
 * that the worker, as root, would append PR output through.
 */
async function assertOwnPrivateDir(dir: string): Promise<void> {
  const info = await lstat(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o077) !== 0) {
    throw new Error(
      `EVALBOT_JOB_LOG_DIR ${dir} is not a directory of the worker's own that only it can open (mode ${(info.mode & 0o777).toString(8)}, owner ${info.uid}): remove it or point EVALBOT_JOB_LOG_DIR elsewhere; whole job logs are not written meanwhile`,
    );
  }
}

/** Append to `path`, never through a symlink planted at that name. */
async function appendNoFollow(path: string, chunk: string): Promise<void> {
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await appendFile(handle, chunk);
  } finally {
    await handle.close();
  }
}
