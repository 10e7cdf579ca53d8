import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogCollector } from '@evalbot/evaluator';
import { JOB_LOG_LIMITS, jobOptionsOf } from '@evalbot/jobs';
import { startRedis } from '@evalbot/local-stack';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JobLogFiles, MAX_PENDING_BYTES } from '../src/job-log-files.ts';
import { withJobContext } from '../src/with-job-context.ts';

let redisUrl: string;
let closeRedis: () => Promise<void> = async () => {};
let dir: string;
beforeAll(async () => {
  if (process.env.REDIS_URL) redisUrl = process.env.REDIS_URL;
  else ({ url: redisUrl, close: closeRedis } = await startRedis());
});
afterAll(async () => closeRedis());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evalbot-job-logs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lineOf = (i: number) => `epoch ${i}: loss=${(1 / (i + 1)).toFixed(6)}`;

describe("a job's log", () => {
  it("keeps a bounded tail in Redis, and the whole output on the worker's disk", async () => {
    const prefix = `test-job-logs-${process.pid}-${Date.now()}`;
    const connection = { url: redisUrl, maxRetriesPerRequest: null };
    const queue = new Queue('evaluate', { connection, prefix });
    const events = new QueueEvents('evaluate', { connection, prefix });
    const logDir = join(dir, 'job-logs');
    const files = new JobLogFiles({
      dir: logDir,
      maxFileBytes: 64 * 1024 * 1024,
      maxTotalBytes: 256 * 1024 * 1024,
    });
    const printed = 2_000;
    const long = `x`.repeat(3_000);
    // As evaluate-side wires a training's output: every line to disk, the live ones to Redis. A
    // training that prints for an hour passes its lines to the live log at 20 a second; the
    // burst lets this one pass all of its lines at once.
    const worker = new Worker(
      'evaluate',
      (job) =>
        withJobContext(job, files, async (context) => {
          const output = new LogCollector({
            secrets: ['s3cr3t-value'],
            onLog: (line) => void context.logLive(line),
            onOutput: (line) => context.logOutput(line),
            limits: { burst: 10 * printed, maxLineLength: 5_000 },
          });
          const sink = output.sink();
          for (let i = 0; i < printed; i++) sink.write(`${lineOf(i)}\n`);
          sink.write(`${long}\ntoken s3cr3t-value\n`);
          sink.end();
          await context.log('[metrics] read result.txt');
          return 'done';
        }),
      { connection, prefix },
    );
    try {
      await events.waitUntilReady();
      const job = await queue.add('evaluate', {}, jobOptionsOf('evaluate', { jobId: 'octo-mnist-12-head' }));
      expect(await job.waitUntilFinished(events)).toBe('done');

      const { logs, count } = await queue.getJobLogs('octo-mnist-12-head', 0, -1);
      expect(count).toBe(JOB_LOG_LIMITS.keptLines);
      expect(logs).toHaveLength(JOB_LOG_LIMITS.keptLines);
      expect(logs.at(-1)).toBe('[metrics] read result.txt');
      expect(logs.at(-2)).toBe('token [redacted]');
      expect(logs.at(-3)).toBe(
        `${'x'.repeat(JOB_LOG_LIMITS.lineChars)} … [cut; the whole line is in the worker's job log file]`,
      );
      expect(logs.at(-4)).toBe(lineOf(printed - 1));
      expect(logs.join('\n')).not.toContain(lineOf(0));

      const path = join(logDir, 'octo-mnist-12-head.log');
      // Other jobs' output is for the worker's operator only.
      expect((await stat(logDir)).mode & 0o777).toBe(0o700);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const onDisk = (await readFile(path, 'utf8')).trimEnd().split('\n');
      const text = onDisk.map((line) => line.replace(/^\S+ /, ''));
      expect(text[0]).toBe('[evalbot] evaluate job octo-mnist-12-head, attempt 1');
      expect(text.slice(1, 1 + printed)).toEqual(Array.from({ length: printed }, (_, i) => lineOf(i)));
      expect(text.slice(1 + printed)).toEqual([long, 'token [redacted]', '[metrics] read result.txt']);
      expect(onDisk[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z /);
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe('job log files on disk', () => {
  it("rotate a job's file by size, keeping the newest lines in <job>.log and the ones before in .log.1", async () => {
    const files = new JobLogFiles({ dir, maxFileBytes: 10_000, maxTotalBytes: 1_000_000 });
    const file = await files.openJob('job-1', 'header');
    // Written in buffers of 64 KiB or less, each flush checks the size first: close after
    // each batch so that every batch is its own flush.
    await file.close();
    for (let batch = 0; batch < 3; batch++) {
      const again = await files.openJob('job-1', `batch ${batch}`);
      for (let i = 0; i < 80; i++) again.write(`${batch}:${i} ${'.'.repeat(60)}`);
      await again.close();
    }
    expect((await readdir(dir)).sort()).toEqual(['job-1.log', 'job-1.log.1']);
    const current = await readFile(join(dir, 'job-1.log'), 'utf8');
    const previous = await readFile(join(dir, 'job-1.log.1'), 'utf8');
    expect(current).toContain('batch 2');
    expect(current).toContain('2:79 ');
    expect(previous).toContain('batch 1');
    expect(previous).not.toContain('batch 0');
    expect((await stat(join(dir, 'job-1.log'))).size).toBeLessThanOrEqual(10_000);
  });

  it('report a directory that cannot be made, and let the job go on without its file', async () => {
    const errors: string[] = [];
    const blocked = join(dir, 'a-file');
    await writeFile(blocked, '');
    const files = new JobLogFiles({
      dir: join(blocked, 'job-logs'),
      maxFileBytes: 1_000,
      maxTotalBytes: 10_000,
      onError: (error) => errors.push((error as NodeJS.ErrnoException).code ?? error.message),
    });
    const file = await files.openJob('job-1', 'header');
    file.write('a line');
    await file.close();
    expect(errors).toEqual(['ENOTDIR']);
  });

  it("refuse a directory that is not the worker's alone, and append through no symlink", async () => {
    // Made first by someone else in a shared place, open to all: nothing is written there.
    const shared = join(dir, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o777);
    const errors: string[] = [];
    const open = new JobLogFiles({
      dir: shared,
      maxFileBytes: 1_000,
      maxTotalBytes: 10_000,
      onError: (error) => errors.push(error.message),
    });
    const file = await open.openJob('job-1', 'header');
    file.write('PR output');
    await file.close();
    expect(errors).toEqual([
      expect.stringContaining(`EVALBOT_JOB_LOG_DIR ${shared} is not a directory of the worker's own`),
    ]);
    expect(await readdir(shared)).toEqual([]);

    // A log swapped for a symlink is not followed.
    const own = join(dir, 'own');
    const victim = join(dir, 'victim');
    await writeFile(victim, 'untouched\n');
    const failures: string[] = [];
    const files = new JobLogFiles({
      dir: own,
      maxFileBytes: 1_000_000,
      maxTotalBytes: 10_000_000,
      onError: (error) => failures.push((error as NodeJS.ErrnoException).code ?? error.message),
    });
    const planted = await files.openJob('job-2', 'header');
    await symlink(victim, join(own, 'job-2.log'));
    planted.write('PR output');
    await planted.close();
    expect(failures).toEqual(['ELOOP']);
    expect(await readFile(victim, 'utf8')).toBe('untouched\n');
  });

  it('remove the oldest files to stay under the total size, never a file being written', async () => {
    const files = new JobLogFiles({ dir, maxFileBytes: 1_000_000, maxTotalBytes: 25_000 });
    const running = await files.openJob('running', 'header');
    running.write('a'.repeat(12_000));
    await running.flush();
    for (const id of ['old', 'middle', 'new']) {
      const file = await files.openJob(id, 'header');
      file.write('b'.repeat(9_000));
      await file.close();
    }
    // running (12 KB, open) + new (9 KB) fit; middle and old, the oldest closed ones, went.
    expect((await readdir(dir)).sort()).toEqual(['new.log', 'running.log']);
    await running.close();
  });

  it('bound the output held in memory when it comes faster than the disk takes it, and say what was dropped', async () => {
    const files = new JobLogFiles({
      dir,
      maxFileBytes: 1024 * 1024 * 1024,
      maxTotalBytes: 1024 * 1024 * 1024,
    });
    const file = await files.openJob('chatty', 'attempt 1');
    // 64 MB in one burst: no write can finish before the burst ends, as with a disk far slower
    // than the training's output.
    const line = 'x'.repeat(1_000);
    for (let i = 0; i < 64_000; i++) file.write(`${i} ${line}`);
    await file.close();
    const text = await readFile(file.path, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_PENDING_BYTES + 64 * 1024);
    const dropped = Number(/\[evalbot: (\d+) lines dropped here/.exec(text)?.[1]);
    const kept = text.split('\n').filter((l) => l.endsWith(line)).length;
    expect(kept).toBeGreaterThan(1_000);
    expect(kept + dropped).toBe(64_000);
  });
});
