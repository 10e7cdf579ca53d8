import { buildDelivery, type GitHubSim, type WebhookDelivery } from '@evalbot/github-sim';
import { demoWithLearningRate, ML_DEMO_DIR, ML_DEMO_EXCLUDE } from '@evalbot/local-stack';

/** A PR the bench can label: enough to build its deliveries. */
export interface BenchPullRequest {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  baseSha: string;
  installationId: number;
  author: string;
}

/**
 * A public copy of `ml-demo/` in the stand-in with a `tune-learning-rate` branch, for the
 * by-hand baseline to clone without credentials.
 */
export async function createPublicDemoRepo(
  sim: GitHubSim,
  owner: string,
  name: string,
): Promise<{ cloneUrl: string; headRef: string; baseRef: string }> {
  await sim.createRepo({ owner, name, private: false, fromDir: ML_DEMO_DIR, exclude: ML_DEMO_EXCLUDE });
  await sim.addCommit({
    owner,
    repo: name,
    branch: 'tune-learning-rate',
    files: { 'demo.py': await demoWithLearningRate('0.005') },
    message: 'Raise the learning rate',
  });
  return { cloneUrl: `${sim.gitUrl}/${owner}/${name}.git`, headRef: 'tune-learning-rate', baseRef: 'main' };
}

/**
 * Another PR on the same repository and base as `pr`, from a new branch with `files`: its
 * base result is the one evalbot already has.
 */
export async function openAnotherPullRequest(
  sim: GitHubSim,
  pr: BenchPullRequest,
  branch: string,
  files: Record<string, string>,
): Promise<BenchPullRequest> {
  await sim.addCommit({ owner: pr.owner, repo: pr.repo, branch, files, message: `Change ${branch}` });
  const opened = await sim.openPullRequest({ owner: pr.owner, repo: pr.repo, head: branch, user: pr.author });
  return { ...pr, number: opened.number, headSha: opened.headSha, baseSha: opened.baseSha };
}

/** The `pull_request` `labeled` delivery GitHub sends when the evaluate label is added to `pr`. */
export function labeledDelivery(sim: GitHubSim, pr: BenchPullRequest, label = 'evaluate'): WebhookDelivery {
  sim.addLabels({ owner: pr.owner, repo: pr.repo, number: pr.number, labels: [label] });
  return pullRequestDelivery(sim, pr, { action: 'labeled', label });
}

/**
 * Push `files` to the branch of `pr` (opened by `openMlDemoPullRequest`) and build the
 * `synchronize` delivery GitHub then sends; returns the PR with its new head.
 */
export async function pushToPullRequest(
  sim: GitHubSim,
  pr: BenchPullRequest,
  branch: string,
  files: Record<string, string>,
): Promise<{ pr: BenchPullRequest; delivery: WebhookDelivery }> {
  const headSha = await sim.addCommit({
    owner: pr.owner,
    repo: pr.repo,
    branch,
    files,
    message: 'Another push',
  });
  const pushed = { ...pr, headSha };
  return { pr: pushed, delivery: pullRequestDelivery(sim, pushed, { action: 'synchronize' }) };
}

function pullRequestDelivery(
  sim: GitHubSim,
  pr: BenchPullRequest,
  what: { action: 'labeled'; label: string } | { action: 'synchronize' },
): WebhookDelivery {
  const json = sim.pullRequestJson(pr.owner, pr.repo, pr.number);
  return buildDelivery({
    event: 'pull_request',
    ...what,
    sender: pr.author,
    repo: { owner: pr.owner, name: pr.repo, private: true },
    apiUrl: sim.url,
    webUrl: sim.gitUrl,
    installationId: pr.installationId,
    appId: sim.appId,
    pullRequest: {
      number: pr.number,
      headSha: json.head.sha,
      baseSha: json.base.sha,
      headRef: json.head.ref,
      baseRef: json.base.ref,
      author: pr.author,
      labels: json.labels.map((l: { name: string }) => l.name),
      updatedAt: json.updated_at,
    },
  });
}
