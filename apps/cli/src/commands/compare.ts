import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { reapStaleWorkDirs } from '@evalbot/evaluator';
import { baseConfigOf, buildReport, configErrorsOf, shortSha } from '@evalbot/report';
import { type Command, CommanderError, Option } from 'commander';
import { type CliContext, CliError } from '../cli-context.ts';
import { cacheDirOf, minutes, workDirsOf } from '../command-options.ts';
import { evaluateSides } from '../compare/evaluate-sides.ts';
import { hasUncommittedChanges, repositoryRoot, resolveCommit, USAGE_ERROR } from '../compare/git-refs.ts';
import { openSandbox } from '../compare/open-sandbox.ts';
import { createProgress } from '../progress.ts';

interface CompareOptions {
  base: string;
  head: string;
  sequential: boolean;
  cacheDir?: string;
  workDir?: string;
  timeoutMinutes: number;
  format: 'markdown' | 'json';
}

/** The worker's default cap (EVALBOT_MAX_TIMEOUT_MINUTES). */
const DEFAULT_TIMEOUT_MINUTES = 60;

/**
 * `evalbot compare [PATH] --base REF --head REF`: evaluate two commits of a local repository as
 * the worker evaluates a PR's base and head, and print the report the PR would get.
 */
export function registerCompare(program: Command, ctx: CliContext): void {
  program
    .command('compare')
    .summary('train the model at two refs of a local repository and print the report')
    .description(
      'Evaluate two commits of a local git repository exactly as the worker evaluates a pull ' +
        "request's base and head (each commit's .evalbot.yml or the defaults: pip install -r " +
        'requirements.txt, python3 demo.py, metrics from result.txt), both at once, and print the ' +
        'comment the PR would get. Thresholds and directions come from the base commit.\n\n' +
        'Only committed files are evaluated. The repository is only read.\n\n' +
        "Exit codes: 0 the check would pass or be neutral, 1 it would fail (e.g. the head's run " +
        'crashes or a threshold is exceeded), 2 a usage error (no repository at PATH, unknown ref), ' +
        '130 interrupted.',
    )
    .argument('[path]', 'the repository (any directory inside its work tree)', '.')
    .requiredOption('-b, --base <ref>', 'the commit to compare against (branch, tag, SHA, HEAD~1…)')
    .option('-H, --head <ref>', 'the commit to evaluate', 'HEAD')
    .option('--sequential', 'evaluate the base, then the head, instead of both at once', false)
    .option(
      '--cache-dir <dir>',
      'cached virtual environments and pip cache (default: $EVALBOT_CACHE_DIR, else ~/.cache/evalbot)',
    )
    .option(
      '--work-dir <dir>',
      'where the commits are checked out, one temp dir per side, removed after (default: $EVALBOT_WORK_DIR, else <temp dir>/evalbot-work)',
    )
    .addOption(
      new Option(
        '--timeout-minutes <n>',
        'cap on each side’s setup and run (its .evalbot.yml timeout_minutes applies below it)',
      )
        .default(DEFAULT_TIMEOUT_MINUTES)
        .argParser(minutes),
    )
    .addOption(
      new Option(
        '-f, --format <format>',
        'markdown: the PR comment; json: the verdict, check run, comment and both outcomes',
      )
        .choices(['markdown', 'json'])
        .default('markdown'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  evalbot compare --base main                  # HEAD of the current repository vs main\n' +
        '  evalbot compare ../model --base v1.2 --head tune-lr --format json',
    )
    // Commander's own usage errors (missing --base, bad --format) exit 2 like the other usage errors.
    .exitOverride((error) => {
      throw error.exitCode === 1 ? new CommanderError(USAGE_ERROR, error.code, error.message) : error;
    })
    .action(async (path: string, opts: CompareOptions) => {
      const repo = await repositoryRoot(ctx.cwd, path);
      const baseSha = await resolveCommit(repo, opts.base, '--base');
      const headSha = await resolveCommit(repo, opts.head, '--head');
      const cacheDir = await cacheDirOf(ctx, opts.cacheDir);
      const workRoot = resolve(ctx.cwd, opts.workDir ?? workDirsOf(ctx).EVALBOT_WORK_DIR);
      await mkdir(workRoot, { recursive: true });
      // An earlier run killed with SIGKILL leaves its checkout (and maybe its training) behind.
      await reapStaleWorkDirs(workRoot);

      const progress = createProgress({ stream: ctx.stderr, env: ctx.env });
      const sandbox = await openSandbox({
        env: ctx.env,
        cacheDir,
        maxTimeoutMs: opts.timeoutMinutes * 60_000,
        warn: (line) => progress.log(line),
      });
      progress.log(
        `Comparing ${opts.head} (${shortSha(headSha)}) with ${opts.base} (${shortSha(baseSha)}) in ${repo}`,
      );
      if (opts.head === 'HEAD' && (await hasUncommittedChanges(repo)))
        progress.log('Note: uncommitted changes are not evaluated; commit them to include them.');

      let sides: Awaited<ReturnType<typeof evaluateSides>>;
      try {
        sides = await evaluateSides({
          repo,
          headSha,
          baseSha,
          workRoot,
          cacheDir,
          maxTimeoutMs: opts.timeoutMinutes * 60_000,
          sequential: opts.sequential,
          signal: ctx.signal,
          progress,
          workerEnv: ctx.env,
          sandbox,
        });
      } finally {
        progress.stop();
      }
      if (sides.cancelled) throw new CliError('interrupted; nothing was compared', 130);

      const { head, base } = sides;
      const report = buildReport({
        // No web page for a local repository: commits are shown as plain SHAs.
        pr: { repoHtmlUrl: '' },
        head,
        base,
        baseConfig: baseConfigOf(base),
        configErrors: configErrorsOf(head, base),
        now: new Date(),
      });
      const { checkRun } = report;
      if (opts.format === 'json') {
        const json = {
          conclusion: checkRun.conclusion,
          title: checkRun.title,
          verdict: report.verdict,
          checkRun,
          markdown: report.markdown,
          head,
          base,
        };
        ctx.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        ctx.stdout.write(`${report.markdown}\n`);
      }
      ctx.stderr.write(`Check run: ${checkRun.conclusion} — ${checkRun.title}\n`);
      if (checkRun.conclusion === 'failure') throw new CliError('', 1);
    });
}
