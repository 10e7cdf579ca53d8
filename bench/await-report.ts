import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitHubSim, WebhookDelivery } from '@evalbot/github-sim';
import { type LocalStack, waitFor } from '@evalbot/local-stack';
import type { BenchPullRequest } from './pull-requests.ts';

const PENDING_HEADING = '## ⏳';

/**
 * The final report comment on `pr`, if the worker has posted it (not the ⏳ pending one), of
 * its current head: after a push, the previous report does not count.
 */
export function finalReport(sim: GitHubSim, pr: BenchPullRequest): string | undefined {
  const comment = sim
    .comments(pr.owner, pr.repo, pr.number)
    .find(
      (c) =>
        c.body.startsWith('<!-- evalbot:report -->') &&
        !c.body.includes(PENDING_HEADING) &&
        c.body.includes(pr.headSha.slice(0, 7)),
    );
  return comment?.body;
}

/** The report's headline, e.g. `## ℹ️ evalbot: loss +0.0155, accuracy 0 pts — informative only`. */
export function headline(report: string): string {
  return report.split('\n').find((line) => line.startsWith('## ')) ?? '';
}

/**
 * Send the delivery as GitHub would and wait for the final report comment on the PR.
 * Resolves with the wall-clock from sending to the comment; throws if the gateway did not
 * queue it, if it takes over `timeoutMs`, or if the report says a side failed.
 */
export async function deliverAndAwaitReport(
  stack: LocalStack,
  pr: BenchPullRequest,
  delivery: WebhookDelivery,
  timeoutMs: number,
): Promise<{ ms: number; headline: string }> {
  const started = performance.now();
  const answer = await stack.deliver(delivery);
  if (answer.status !== 202 || !answer.body.includes('"recorded"')) {
    throw new Error(`the gateway did not record the delivery: ${answer.status} ${answer.body}`);
  }
  const report = await waitFor(() => finalReport(stack.sim, pr), {
    timeoutMs,
    intervalMs: 25,
    what: `the report on ${pr.owner}/${pr.repo}#${pr.number}`,
  });
  const ms = performance.now() - started;
  const line = headline(report);
  if (/\bfail/i.test(line)) throw new Error(`the evaluation failed: ${line}\n${report.slice(0, 3000)}`);
  return { ms, headline: line };
}

/** One side as the worker logged it (`side evaluated`): per-stage milliseconds. */
export interface LoggedSide {
  side: 'head' | 'base';
  ok: boolean;
  durations: Record<string, number>;
}

/**
 * The `side evaluated` lines the workers logged for a delivery, but those of sides whose result
 * was reused (no stage ran for them). Waits briefly for `expected` lines: logs reach their
 * files a moment late.
 */
export async function loggedSides(
  logDir: string,
  deliveryId: string,
  expected: number,
): Promise<LoggedSide[]> {
  const read = async () => {
    const files = (await readdir(logDir)).filter((f) => f.startsWith('worker-'));
    const sides: LoggedSide[] = [];
    for (const file of files) {
      for (const line of (await readFile(join(logDir, file), 'utf8')).split('\n')) {
        if (!line.includes(deliveryId) || !line.includes('side evaluated')) continue;
        try {
          const entry = JSON.parse(line) as {
            side: 'head' | 'base';
            ok: boolean;
            durations: Record<string, number>;
            resultReused?: boolean;
          };
          if (entry.resultReused) continue;
          sides.push({ side: entry.side, ok: entry.ok, durations: entry.durations });
        } catch {
          // A line cut short while being written; the next read sees it whole.
        }
      }
    }
    return sides;
  };
  try {
    return await waitFor(
      async () => {
        const sides = await read();
        return sides.length >= expected ? sides : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );
  } catch {
    return read();
  }
}
