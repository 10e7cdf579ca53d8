import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeTrainer } from '@evalbot/test-utils';

/** A model repository of `fakeTrainer`'s `demo.py`, no requirements and a README. */
export async function makeFakeModelDir(opts: { accuracy?: number; loss?: number } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-fake-model-'));
  await writeFile(
    join(dir, 'demo.py'),
    fakeTrainer({ accuracy: opts.accuracy ?? 0.9, loss: opts.loss ?? 0.3 }),
  );
  await writeFile(join(dir, 'requirements.txt'), '');
  await writeFile(join(dir, 'README.md'), '# fake model\n');
  return dir;
}
