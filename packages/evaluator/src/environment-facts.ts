import { join } from 'node:path';
import { LogCollector } from './log-collector.ts';
import type { RunStep } from './step.ts';

/** Packages whose versions explain a change in metrics; reported when installed. */
export const KEY_PACKAGES = [
  'tensorflow',
  'tensorflow-cpu',
  'keras',
  'torch',
  'jax',
  'jaxlib',
  'numpy',
  'scikit-learn',
  'scipy',
  'pandas',
];

const MARKER = 'EVALBOT_FACTS ';
const SCRIPT = `
import json, platform
from importlib import metadata
packages = {}
for name in ${JSON.stringify(KEY_PACKAGES)}:
    try:
        packages[name] = metadata.version(name)
    except Exception:
        pass
print(${JSON.stringify(MARKER)} + json.dumps({"python": platform.python_version(), "packages": packages}))
`;

export interface EnvironmentFacts {
  python?: string;
  packages: Record<string, string>;
}

/**
 * The Python version and key package versions of the job's environment (after setup, so
 * packages setup installed count). Best effort: an environment that cannot say gives `{}`.
 * Runs sandboxed, like PR code, because the environment's `.pth` files are PR input.
 */
export async function readEnvironmentFacts(opts: {
  runStep: RunStep;
  virtualEnv: string;
  cwd: string;
  env: Record<string, string>;
}): Promise<EnvironmentFacts> {
  const output = new LogCollector({ secrets: [], limits: { maxLines: 20 } });
  const result = await opts.runStep({
    // -I: the working directory is not on sys.path, so a PR's json.py cannot answer.
    argv: [join(opts.virtualEnv, 'bin', 'python'), '-I', '-c', SCRIPT],
    label: 'python3 (environment facts)',
    cwd: opts.cwd,
    env: opts.env,
    log: output,
    timeoutMs: 60_000,
  });
  const line = output
    .tail()
    .split('\n')
    .find((l) => l.startsWith(MARKER));
  if (result.exitCode !== 0 || !line) return { packages: {} };
  try {
    const raw = JSON.parse(line.slice(MARKER.length)) as { python?: unknown; packages?: unknown };
    const facts: EnvironmentFacts = { packages: {} };
    if (typeof raw.python === 'string' && raw.python.length < 40) facts.python = raw.python;
    if (raw.packages && typeof raw.packages === 'object') {
      for (const [name, version] of Object.entries(raw.packages)) {
        if (KEY_PACKAGES.includes(name) && typeof version === 'string' && version.length < 80) {
          facts.packages[name] = version;
        }
      }
    }
    return facts;
  } catch {
    return { packages: {} };
  }
}

/** Facts of shared environments, by real path: a published environment never changes. */
const sharedFacts = new Map<string, EnvironmentFacts>();
const MAX_SHARED_FACTS = 256;

/**
 * The facts of a job's environment, read once per shared environment (`sharedKey`, its real
 * path) when the job added nothing to it (no setup commands), else every time. Saves one
 * Python process per side job; only a successful read is kept.
 */
export async function environmentFactsOf(
  sharedKey: string | undefined,
  read: () => Promise<EnvironmentFacts>,
): Promise<EnvironmentFacts> {
  if (sharedKey === undefined) return read();
  const known = sharedFacts.get(sharedKey);
  if (known) return known;
  const facts = await read();
  if (facts.python !== undefined) {
    if (sharedFacts.size >= MAX_SHARED_FACTS) sharedFacts.delete(sharedFacts.keys().next().value as string);
    sharedFacts.set(sharedKey, facts);
  }
  return facts;
}
