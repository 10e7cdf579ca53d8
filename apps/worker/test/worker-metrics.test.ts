import { COMMAND_QUEUE, COMPARE_QUEUE, EVALUATE_QUEUE } from '@evalbot/jobs';
import { waitFor } from '@evalbot/local-stack';
import { describe, expect, it } from 'vitest';
import {
  deliverOk,
  GOOD_REPORT,
  openGoodPullRequest,
  useFaultStack,
  waitForReport,
} from './faults/fault-stack.ts';
import { expectOneReport } from './faults/invariants.ts';

// What an operator's Prometheus scrapes from a worker while it evaluates a PR and GitHub
// rate-limits it: the process's own metrics, jobs running now, the environment cache, and the
// waits for GitHub's limits, each driven by what really happens.

const CACHE_MAX_GB = 1.5;

const fault = useFaultStack({ workers: 1, workerEnv: { EVALBOT_CACHE_MAX_GB: String(CACHE_MAX_GB) } });

async function scrape(): Promise<string> {
  const answer = await fetch(fault.stack.metricsUrls[0] ?? '');
  expect(answer.status).toBe(200);
  return answer.text();
}

/** The value of one sample, e.g. `evalbot_worker_running_jobs{queue="evaluate"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("a worker's /metrics", { timeout: 150_000 }, () => {
  it('counts running jobs, environment cache hits and misses, and GitHub rate-limit waits', async () => {
    const before = await scrape();
    // The configured bound shows before any job has built an environment.
    expect(sample(before, 'evalbot_worker_env_cache_max_bytes')).toBe(CACHE_MAX_GB * 1024 ** 3);
    expect(sample(before, `evalbot_worker_running_jobs{queue="${EVALUATE_QUEUE}"}`)).toBe(0);
    expect(sample(before, 'evalbot_worker_env_cache_total{result="miss"}')).toBe(0);
    expect(sample(before, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(before).toMatch(/^nodejs_eventloop_lag_seconds \d/m);

    const repo = 'metrics';
    // Completing the check run is the report's last write: 4 answers are Octokit's try and its
    // 3 retries (3 waits in the client); then the compare job waits in the queue (1 wait).
    const limited = fault.stack.sim.injectFault({
      route: `PATCH /repos/octo-org/${repo}/check-runs/:id`,
      kind: 'secondary-rate-limit',
      retryAfterSeconds: 1,
      times: 4,
    });
    const { pr } = await openGoodPullRequest(fault.stack, repo, { trainSeconds: 3 });
    await deliverOk(fault.stack, pr.labeledDelivery());

    await waitFor(
      async () => sample(await scrape(), `evalbot_worker_running_jobs{queue="${EVALUATE_QUEUE}"}`) === 1,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: 'a running evaluate job in /metrics',
      },
    );
    await waitForReport(fault, pr, pr.headSha);
    expect(limited.hits).toBe(4);
    expect(await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' })).toMatch(GOOD_REPORT);

    const after = await scrape();
    // Head and base need the same environment: one worker (one job at a time) builds it once.
    expect(sample(after, 'evalbot_worker_env_cache_total{result="miss"}')).toBe(1);
    expect(sample(after, 'evalbot_worker_env_cache_total{result="hit"}')).toBe(1);
    expect(sample(after, 'evalbot_worker_env_cache_bytes')).toBeGreaterThan(0);
    expect(sample(after, 'evalbot_worker_env_cache_max_bytes')).toBe(CACHE_MAX_GB * 1024 ** 3);
    expect(
      sample(after, 'evalbot_worker_github_rate_limit_waits_total{limit="secondary",where="client"}'),
    ).toBe(3);
    expect(
      sample(after, 'evalbot_worker_github_rate_limit_waits_total{limit="secondary",where="queue"}'),
    ).toBe(1);
    for (const queue of [EVALUATE_QUEUE, COMPARE_QUEUE, COMMAND_QUEUE]) {
      expect(sample(after, `evalbot_worker_running_jobs{queue="${queue}"}`), queue).toBe(0);
    }
    expect(sample(after, `evalbot_worker_jobs_total{queue="${COMPARE_QUEUE}",outcome="completed"}`)).toBe(1);
  });
});
