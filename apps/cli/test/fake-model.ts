import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A stand-in for ml-demo that trains instantly: the same learning-rate line (the demo's PR
 * raises it), metrics that follow it, and `marker` on its command line (it re-executes itself
 * with it: the sandbox shows it nothing of the host to write its pid to) so the test can check
 * that no training outlives the demo. `sleep` makes it train "forever" instead.
 */
export const fakeModel = (marker: string, opts: { sleep?: boolean } = {}) => `import json, os, sys, time
if sys.argv[1:] != [${JSON.stringify(marker)}]:
    os.execv(sys.executable, [sys.executable, "demo.py", ${JSON.stringify(marker)}])

def positive_float(text):
    return float(text)

OPTIONS = [
    ("--learning-rate", "LEARNING_RATE", positive_float, 0.003, "Adam's learning rate"),
]
print("training", flush=True)
${opts.sleep ? 'time.sleep(300)\n' : ''}lr = OPTIONS[0][3]
with open("result.txt", "w") as f:
    json.dump({"accuracy": 0.9 + lr, "loss": 0.5 - 10 * lr}, f)
print("trained with learning rate", lr)
`;

/**
 * A model directory `name` under `dir` holding `fakeModel` with a marker of its own, and the
 * directory its demo's logs go to.
 */
export async function fakeModelSource(dir: string, name: string, opts: { sleep?: boolean } = {}) {
  const source = join(dir, name);
  await mkdir(source);
  const marker = `evalbot-demo-test-${name}-${process.pid}-${Date.now()}`;
  await writeFile(join(source, 'demo.py'), fakeModel(marker, opts));
  await writeFile(join(source, 'requirements.txt'), '');
  return { source, marker, logDir: join(dir, `${name}-logs`) };
}

/** `evalbot demo` of `source`, its logs in `logDir`, environments in `cacheDir`, 2 minutes at most; then `extra`. */
export function demoArgs(
  { source, logDir }: { source: string; logDir: string },
  cacheDir: string,
  extra: string[] = [],
): string[] {
  return [
    'demo',
    '--source-dir',
    source,
    '--log-dir',
    logDir,
    '--cache-dir',
    cacheDir,
    '--timeout-minutes',
    '2',
    ...extra,
  ];
}
