import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, openMlDemoPullRequest, startLocalStack, waitFor } from '@evalbot/local-stack';
import { fakeTrainer, spawnApp } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A model that trains at once: metrics that follow the learning rate the head changes.
const DEMO_PY = (lr: number) => fakeTrainer({ accuracy: 0.9 + lr, loss: 0.5 - lr });

// docs/operations.md, "Rotating secrets" → "Private key", step by step against the GitHub
// stand-in, which like GitHub accepts any of the App's keys until one is deleted.
describe('rotating the App private key as docs/operations.md says', () => {
  let stack: LocalStack;
  let dir: string;
  const keyFile = async (name: string, pem: string) => {
    const path = join(dir, name);
    await writeFile(path, pem, { mode: 0o600 });
    return path;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-key-rotation-'));
    await chmod(dir, 0o711);
    await writeFile(join(dir, 'demo.py'), DEMO_PY(0.001));
    await writeFile(join(dir, 'requirements.txt'), '');
    stack = await startLocalStack({
      workers: 0,
      cacheDir: process.env.EVALBOT_CACHE_DIR ?? join(dir, 'cache'),
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function evaluate(repo: string) {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo,
      sourceDir: dir,
      headFiles: { 'demo.py': DEMO_PY(0.002) },
    });
    expect((await stack.deliver(pr.labeledDelivery())).status).toBe(202);
    await waitFor(
      () => stack.sim.checkRuns(pr.owner, pr.repo, pr.headSha).some((c) => c.status === 'completed'),
      {
        timeoutMs: 90_000,
        what: `the evaluation of ${repo} to finish`,
      },
    );
    return stack.sim.comments(pr.owner, pr.repo, pr.number);
  }

  it('moves the workers to a new key file, after which the old key can be deleted on GitHub', async () => {
    // Before: the worker reads the key from the file PRIVATE_KEY_PATH names (no PRIVATE_KEY).
    const oldKey = stack.sim.privateKey ?? '';
    const oldWorker = await stack.addWorker({
      PRIVATE_KEY: '',
      PRIVATE_KEY_PATH: await keyFile('old.pem', oldKey),
    });
    expect(await evaluate('before')).toHaveLength(1);

    // 1. Generate a new key on GitHub; save it under a new name.
    const newKeyFile = await keyFile('new.pem', stack.sim.generatePrivateKey());
    // 2. Point PRIVATE_KEY_PATH at it and recreate the workers: the new one starts, the old drains.
    await stack.addWorker({ PRIVATE_KEY: '', PRIVATE_KEY_PATH: newKeyFile });
    expect(await oldWorker.stop('SIGTERM')).toBe(0);
    // 3. Delete the old key on GitHub: evaluations go on with the new one.
    stack.sim.deletePrivateKey(oldKey);
    const after = await evaluate('after');
    expect(after).toHaveLength(1);
    expect(after[0]?.body).toMatch(/\| accuracy ↑ \| 90\.10% \| 90\.20% \|/);
  }, 180_000);

  it('refuses to start with both PRIVATE_KEY and PRIVATE_KEY_PATH, so the old key cannot linger unseen', async () => {
    const worker = spawnApp('worker', {
      REDIS_URL: stack.redisUrl,
      APP_ID: String(stack.sim.appId),
      PRIVATE_KEY: stack.sim.generatePrivateKey(),
      PRIVATE_KEY_PATH: await keyFile('other.pem', stack.sim.generatePrivateKey()),
      EVALBOT_WORK_DIR: join(dir, 'work-refused'),
    });
    expect(await worker.exited).toBe(78);
    expect(worker.stderr()).toContain('PRIVATE_KEY/PRIVATE_KEY_PATH: are both set; keep one');
    expect(worker.stderr()).not.toContain('BEGIN RSA PRIVATE KEY');
  });
});
