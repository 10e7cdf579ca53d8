import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, openMlDemoPullRequest, startLocalStack, waitFor } from '@evalbot/local-stack';
import { fakeTrainer } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFakeModelDir } from './fake-model.ts';

// `docker compose stop` or a rolling upgrade sends SIGTERM: the worker must not sit on a long
// training until it is killed, nor lose it. It hands the job back and exits; another worker
// runs it and the PR still ends with one comment.
describe('a worker stopped with SIGTERM mid-training', () => {
  let stack: LocalStack;
  let cacheDir: string;
  let modelDir: string;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'evalbot-sigterm-cache-'));
    modelDir = await makeFakeModelDir();
    stack = await startLocalStack({ workers: 1, cacheDir, workerEnv: { WORKER_CONCURRENCY: '2' } });
  });
  afterAll(async () => {
    await stack?.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(modelDir, { recursive: true, force: true });
  });

  it('hands its job back, exits, and another worker finishes the evaluation', {
    timeout: 120_000,
  }, async () => {
    const slow = fakeTrainer({ accuracy: 0.9, loss: 0.3, sleepSeconds: 15 });
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'sigterm',
      sourceDir: modelDir,
      baseFiles: { 'demo.py': slow },
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.92, loss: 0.28, sleepSeconds: 15 }) },
    });
    await stack.deliver(pr.labeledDelivery());
    await waitFor(() => stack.sim.comments(pr.owner, pr.repo, pr.number)[0]?.body.includes('evaluating'), {
      timeoutMs: 60_000,
      what: 'the evaluation to start',
    });
    const [first] = stack.workers;
    const replacement = await stack.addWorker();
    await waitFor(() => first?.output().includes('"jobId"'), {
      timeoutMs: 30_000,
      what: 'the first worker to log its job',
    });

    expect(await first?.stop('SIGTERM')).toBe(0);
    // It left without finishing the training (15 s) and without leftovers.
    const checkRuns = () => stack.sim.checkRuns(pr.owner, pr.repo, pr.headSha);
    expect(checkRuns().filter((c) => c.status === 'completed')).toHaveLength(0);
    expect(first?.output()).toContain('handing running evaluations back');
    // Handed back, not failed: a failed attempt would also be retried, but would spend one of the job's few.
    expect(first?.output()).not.toContain('job failed');
    expect(await readdir(stack.workDirs[0] ?? '')).toEqual([]);

    await waitFor(() => checkRuns().some((c) => c.status === 'completed'), {
      timeoutMs: 90_000,
      what: 'the replacement worker to finish',
    });
    expect(checkRuns()).toHaveLength(1);
    expect(checkRuns()[0]?.conclusion).toBe('neutral');
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/^\| accuracy ↑ \| 90\.00% \| 92\.00% \| \+2\.00 pts \|/m);
    expect(replacement.output()).toContain('side evaluated');
  });
});
