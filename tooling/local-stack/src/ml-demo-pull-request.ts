import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildDelivery, type GitHubSim, type WebhookDelivery } from '@evalbot/github-sim';
import { REPO_ROOT } from './service-process.ts';

export const ML_DEMO_DIR = join(REPO_ROOT, 'ml-demo');

/** What a repository made from `ml-demo/` leaves out: its tests, tooling and local leftovers. */
export const ML_DEMO_EXCLUDE = ['test/', 'scripts/', '.ruff_cache/', 'result.txt', '__pycache__/', '.venv/'];

/** `demo.py` of `sourceDir` (default `ml-demo/`) with another learning-rate default: a change to the model. */
export async function demoWithLearningRate(rate: string, sourceDir = ML_DEMO_DIR): Promise<string> {
  const demo = await readFile(join(sourceDir, 'demo.py'), 'utf8');
  const changed = demo.replace(
    '("--learning-rate", "LEARNING_RATE", positive_float, 0.003,',
    `("--learning-rate", "LEARNING_RATE", positive_float, ${rate},`,
  );
  if (changed === demo) throw new Error('ml-demo/demo.py: the learning-rate default to change was not found');
  return changed;
}

export interface DemoPullRequest {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  baseSha: string;
  /** `pull_request` `labeled` with the evaluate label, as GitHub would send it. */
  labeledDelivery(opts?: { label?: string; id?: string }): WebhookDelivery;
  /** Build any other delivery about this PR (`synchronize`, `closed`, `/evaluate`…). */
  delivery(
    opts: Omit<Parameters<typeof buildDelivery>[0], 'repo' | 'apiUrl' | 'webUrl' | 'installationId'>,
  ): WebhookDelivery;
}

let installationCounter = 0;

/**
 * In the GitHub stand-in: a repository made from `ml-demo/` (base commit on `main`), a branch
 * whose commit changes one hyperparameter (the learning rate), and a PR from it — what a data
 * scientist's first evalbot PR looks like. `files` replaces or adds files in the head commit.
 */
export async function openMlDemoPullRequest(
  sim: GitHubSim,
  opts: {
    owner?: string;
    repo?: string;
    author?: string;
    sourceDir?: string;
    headFiles?: Record<string, string>;
    baseFiles?: Record<string, string>;
    /** Open it on this earlier PR's repository (same base commit) instead of a new one. */
    besides?: { owner: string; repo: string; installationId: number };
    /** The head branch; default `tune-learning-rate`. */
    branch?: string;
  } = {},
): Promise<DemoPullRequest & { installationId: number }> {
  const owner = opts.besides?.owner ?? opts.owner ?? 'octo-org';
  const repo = opts.besides?.repo ?? opts.repo ?? 'mnist-demo';
  const author = opts.author ?? 'mona';
  const sourceDir = opts.sourceDir ?? ML_DEMO_DIR;
  const branch = opts.branch ?? 'tune-learning-rate';
  let installation = { id: opts.besides?.installationId ?? 0 };
  if (!opts.besides) {
    installationCounter += 1;
    installation = sim.createInstallation({ id: 7_000 + installationCounter, account: owner });
    await sim.createRepo({
      owner,
      name: repo,
      fromDir: sourceDir,
      exclude: ML_DEMO_EXCLUDE,
      installationId: installation.id,
    });
    if (opts.baseFiles)
      await sim.addCommit({ owner, repo, files: opts.baseFiles, message: 'Configure evalbot' });
  }
  sim.setCollaborator({ owner, repo, login: author, role: 'write' });

  await sim.addCommit({
    owner,
    repo,
    branch,
    files: opts.headFiles ?? { 'demo.py': await demoWithLearningRate('0.005', sourceDir) },
    message: 'Raise the learning rate',
  });
  const opened = await sim.openPullRequest({
    owner,
    repo,
    head: branch,
    user: author,
    title: 'Raise the learning rate to 0.005',
  });

  const delivery: DemoPullRequest['delivery'] = (deliveryOpts) => {
    const pr = sim.pullRequestJson(owner, repo, opened.number);
    return buildDelivery({
      ...deliveryOpts,
      repo: { owner, name: repo, private: true },
      apiUrl: sim.url,
      webUrl: sim.gitUrl,
      installationId: installation.id,
      appId: sim.appId,
      pullRequest: {
        number: opened.number,
        headSha: pr.head.sha,
        baseSha: pr.base.sha,
        headRef: pr.head.ref,
        baseRef: pr.base.ref,
        author,
        labels: pr.labels.map((l: { name: string }) => l.name),
        updatedAt: pr.updated_at,
        ...deliveryOpts.pullRequest,
      },
    });
  };
  return {
    owner,
    repo,
    number: opened.number,
    headSha: opened.headSha,
    baseSha: opened.baseSha,
    installationId: installation.id,
    delivery,
    labeledDelivery: ({ label = 'evaluate', id } = {}) => {
      sim.addLabels({ owner, repo, number: opened.number, labels: [label] });
      return delivery({
        event: 'pull_request',
        action: 'labeled',
        label,
        sender: author,
        ...(id ? { id } : {}),
      });
    },
  };
}
