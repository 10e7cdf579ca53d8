/** What `fakeTrainer` writes and how it behaves. */
export interface FakeTrainerOptions {
  accuracy: number;
  loss: number;
  /** Seconds it "trains" (sleeps) before writing its metrics; 0 by default. */
  sleepSeconds?: number;
  /** Printed to stderr before it exits with code 3, writing no metrics. */
  crash?: string;
  /** Adds `EVALBOT_SEED / 1000` to the loss, so that runs with other seeds report other losses. */
  seededLoss?: boolean;
}

/**
 * A model's `demo.py` that trains in no time: it writes `result.txt` from the constants at its
 * top (accuracy, then loss: progress lines list metrics in the file's order; then a loss
 * history), so a head commit changes a "hyperparameter" by replacing one line. It needs no
 * packages: its environment (an empty `requirements.txt`) builds in seconds.
 */
export function fakeTrainer(opts: FakeTrainerOptions): string {
  return [
    'import json, os, sys, time',
    `ACCURACY = ${opts.accuracy}`,
    `LOSS = ${opts.loss}`,
    `SLEEP = ${opts.sleepSeconds ?? 0}`,
    'seed = int(os.environ.get("EVALBOT_SEED", "0"))',
    'print("training with seed", seed, flush=True)',
    'time.sleep(SLEEP)',
    ...(opts.crash ? [`print(${JSON.stringify(opts.crash)}, file=sys.stderr)`, 'sys.exit(3)'] : []),
    opts.seededLoss ? 'loss = LOSS + seed / 1000' : 'loss = LOSS',
    'with open("result.txt", "w") as f:',
    '    json.dump({"accuracy": ACCURACY, "loss": loss, "history": {"loss": [LOSS * 2, LOSS]}}, f)',
    'print("done", flush=True)',
    '',
  ].join('\n');
}
