import { Writable } from 'node:stream';
import {
  type AppKeyPair,
  type GitHubSim,
  type GitHubSimOptions,
  generateAppKeyPair,
  startGitHubSim,
} from '@evalbot/github-sim';
import { createLogger, type Logger } from '@evalbot/logger';
import { createGitHubApp, type GitHubApp, type GitHubAppOptions } from '../src/index.ts';

/** A logger whose JSON lines a test can read. */
export function captureLogger(): { logger: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ service: 'evalbot-github-test', level: 'trace', destination });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

export interface Stage {
  sim: GitHubSim;
  app: GitHubApp;
  /** Installation 1 on `octo` with `octo/model`, PR #1 from `feature` labelled `evaluate`. */
  pr: { owner: string; repo: string; number: number; headSha: string; baseSha: string };
  close(): Promise<void>;
}

let keys: AppKeyPair | undefined;

/** A sim with one installation, repository and PR, and an App client with fast retries. */
export async function startStage(
  opts: { sim?: GitHubSimOptions; app?: Partial<GitHubAppOptions> } = {},
): Promise<Stage> {
  // Generating an RSA key takes up to a second: one per test file is enough.
  keys ??= generateAppKeyPair();
  const sim = await startGitHubSim({ privateKey: keys.privateKey, ...opts.sim });
  sim.createInstallation({ id: 1, account: 'octo' });
  await sim.createRepo({ owner: 'octo', name: 'model', files: { 'demo.py': 'print("base")\n' } });
  const opened = await sim.openPullRequest({
    owner: 'octo',
    repo: 'model',
    head: 'feature',
    files: { 'demo.py': 'print("head")\n' },
    labels: ['evaluate'],
  });
  const app = createGitHubApp({
    appId: sim.appId,
    privateKey: sim.privateKey ?? '',
    apiUrl: sim.url,
    logger: captureLogger().logger,
    retry: { retries: 3, retryAfterBaseValue: 1 },
    throttle: { retries: 3, retryAfterBaseValue: 5, writeIntervalMs: 0 },
    ...opts.app,
  });
  return {
    sim,
    app,
    pr: {
      owner: 'octo',
      repo: 'model',
      number: opened.number,
      headSha: opened.headSha,
      baseSha: opened.baseSha,
    },
    close: () => sim.close(),
  };
}

/** Token mints the sim saw, per installation id. */
export function mintsByInstallation(sim: GitHubSim): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of sim.requestsMatching('POST /app/installations/:id/access_tokens')) {
    const id = r.path.split('/')[3] ?? '?';
    if (r.status === 201) counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}
