import type { DemoPullRequest, LocalStack } from '@evalbot/local-stack';
import { CliError } from '../cli-context.ts';
import type { Progress } from '../progress.ts';
import type { JobProgress } from './job-progress.ts';

/** What the PR shows once evalbot is done. */
export interface PublishedReport {
  /** The PR comment's Markdown, as GitHub stores it. */
  comment: string;
  commentUrl: string;
  checkRun: { name: string; conclusion: string; title: string };
}

const POLL_MS = 250;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The comment's first heading as plain text (links and code marks dropped), for a log line. */
const headingOf = (body: string) =>
  (body.split('\n').find((line) => line.startsWith('#')) ?? body.slice(0, 80))
    .replace(/^#+\s*/, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replaceAll('`', '');

/**
 * Poll the GitHub stand-in until evalbot has finished the PR's check run (it completes the check
 * run after writing the final comment), logging what a PR author would see meanwhile: the ⏳
 * comment, the check run starting, each side's job progress. Throws `CliError` when the
 * evaluation failed for good, the workers died, the time is up or the user interrupted.
 */
export async function waitForReport(opts: {
  stack: LocalStack;
  pr: DemoPullRequest;
  jobs: JobProgress;
  progress: Progress;
  signal: AbortSignal;
  timeoutMs: number;
  logHint: string;
}): Promise<PublishedReport> {
  const { sim } = opts.stack;
  const { owner, repo, number, headSha } = opts.pr;
  const deadline = Date.now() + opts.timeoutMs;
  let seenComment: string | undefined;
  let seenCheckRun = false;
  for (;;) {
    if (opts.signal.aborted) throw new CliError('interrupted; stopping the local stack', 130);

    const comment = sim.comments(owner, repo, number).find((c) => c.user.login === sim.botLogin);
    if (comment && comment.body !== seenComment && comment.body.includes('⏳')) {
      opts.progress.log(`⏳ ${comment.user.login} commented on PR #${number}: ${headingOf(comment.body)}`);
    }
    if (comment) seenComment = comment.body;

    const run = sim.checkRuns(owner, repo, headSha).at(-1);
    if (run && !seenCheckRun) {
      seenCheckRun = true;
      opts.progress.log(`Check run "${run.name}" on ${headSha.slice(0, 7)}: ${run.status.replace('_', ' ')}`);
    }
    const failedCompare = await opts.jobs.poll();
    if (run?.status === 'completed' && comment) {
      return {
        comment: comment.body,
        commentUrl: comment.html_url,
        checkRun: { name: run.name, conclusion: run.conclusion ?? 'none', title: run.output.title ?? '' },
      };
    }
    if (failedCompare) throw new CliError(`the evaluation failed: ${failedCompare} (${opts.logHint})`);
    if (opts.stack.workers.every((w) => w.child.exitCode !== null || w.child.signalCode !== null))
      throw new CliError(`every worker exited before the report was published (${opts.logHint})`);
    if (Date.now() > deadline)
      throw new CliError(
        `no report after ${Math.round(opts.timeoutMs / 60_000)} min (--timeout-minutes; ${opts.logHint})`,
      );
    await pause(POLL_MS, opts.signal);
  }
}
