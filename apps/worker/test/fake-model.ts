import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A model repository that trains in no time: `demo.py` writes `result.txt` from the constants
 * at its top, so a head commit changes a "hyperparameter" by replacing one line. No
 * requirements: its environment builds in seconds.
 */
export function fakeDemoPy(opts: {
  accuracy: number;
  loss: number;
  sleepSeconds?: number;
  crash?: string;
}): string {
  return [
    'import json, sys, time',
    `ACCURACY = ${opts.accuracy}`,
    `LOSS = ${opts.loss}`,
    `SLEEP = ${opts.sleepSeconds ?? 0}`,
    'print("epoch 1/1", flush=True)',
    'time.sleep(SLEEP)',
    opts.crash ? `print(${JSON.stringify(opts.crash)}, file=sys.stderr); sys.exit(3)` : '',
    'with open("result.txt", "w") as f:',
    '    json.dump({"loss": LOSS, "accuracy": ACCURACY, "history": {"loss": [LOSS * 2, LOSS]}}, f)',
    'print("done", flush=True)',
    '',
  ].join('\n');
}

export async function makeFakeModelDir(opts: { accuracy?: number; loss?: number } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-fake-model-'));
  await writeFile(
    join(dir, 'demo.py'),
    fakeDemoPy({ accuracy: opts.accuracy ?? 0.9, loss: opts.loss ?? 0.3 }),
  );
  await writeFile(join(dir, 'requirements.txt'), '');
  await writeFile(join(dir, 'README.md'), '# fake model\n');
  return dir;
}
