import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CliContext, CliError } from '../cli-context.ts';
import { cacheDirOf, minutes } from '../command-options.ts';

interface DemoCommandOptions {
  workers: number;
  timeoutMinutes: number;
  sourceDir?: string;
  cacheDir?: string;
  logDir?: string;
  redisUrl?: string;
  redisCaFile?: string;
  redisSentinels?: string;
  redisSentinelMaster?: string;
  keepRunning: boolean;
}

function workerCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new InvalidArgumentError('must be a whole number from 1 to 16');
  return n;
}

/** `evalbot demo`: run evalbot locally against the GitHub stand-in and show the PR comment it posts. */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .summary('run evalbot on this machine on a demo PR and print the comment it posts')
    .description(
      'Start evalbot on this machine — a private redis-server, the GitHub stand-in, the gateway and ' +
        'the workers, as real processes wired as in production — open a PR in the stand-in that ' +
        "raises ml-demo's learning rate, add the evaluate label, and wait for evalbot's comment and " +
        'check run. Prints the comment (Markdown), the check run, the wall time and where the logs are, ' +
        'then stops everything it started (also on Ctrl-C or an error).\n\n' +
        'The first run builds the TensorFlow environment (~30–60 s) in the cache directory; later runs ' +
        'reuse it. Needs redis-server (unless --redis-url), git and python3 with venv; pip must reach ' +
        'an index (PIP_INDEX_URL) — `pnpm demo` sets this up.\n\n' +
        'Exit codes: 0 the check run passed or is neutral, 1 it failed or no report came, 130 interrupted.',
    )
    .addOption(new Option('-w, --workers <n>', 'worker processes to start').default(2).argParser(workerCount))
    .addOption(
      new Option('--timeout-minutes <n>', 'cap on each side’s training, and on the wait for the report')
        .default(10)
        .argParser(minutes),
    )
    .option(
      '--source-dir <dir>',
      'build the demo repository from this directory instead of ml-demo/ (its demo.py must set the learning rate as ml-demo does)',
    )
    .option(
      '--cache-dir <dir>',
      'cached virtual environments (default: $EVALBOT_CACHE_DIR, else ~/.cache/evalbot)',
    )
    .option(
      '--log-dir <dir>',
      "where each service's log goes (default: a new directory in the system temp dir)",
    )
    .option(
      '--redis-url <url>',
      'use this Redis (a fresh key prefix) instead of starting a private redis-server; redis://USER:PASSWORD@HOST:PORT, rediss:// for TLS',
    )
    .option('--redis-ca-file <path>', "the PEM file of the CA that signed a rediss:// Redis's certificate")
    .option(
      '--redis-sentinels <list>',
      'reach Redis through these Sentinels (host:port,host:port,…) instead; --redis-url then only gives the user and password',
    )
    .option(
      '--redis-sentinel-master <name>',
      'the master group name the Sentinels monitor (with --redis-sentinels)',
    )
    .option('--keep-running', 'after the report, keep everything running until Ctrl-C', false)
    .addHelpText(
      'after',
      '\nExample:\n  pnpm demo                     # installs what is missing, then runs evalbot demo',
    )
    .action(async (opts: DemoCommandOptions) => {
      const cacheDir = await cacheDirOf(ctx, opts.cacheDir);
      const logDir = opts.logDir
        ? resolve(ctx.cwd, opts.logDir)
        : await mkdtemp(join(tmpdir(), 'evalbot-demo-logs-'));
      await mkdir(logDir, { recursive: true });

      // Loaded only by `demo`: it runs the local stack (tooling/local-stack, a devDependency of
      // the CLI, installed in a development checkout), which compare, replay and setup never load.
      const { runDemo } = await import('../demo/run-demo.ts');
      const { report } = await runDemo(
        {
          workers: opts.workers,
          timeoutMinutes: opts.timeoutMinutes,
          ...(opts.sourceDir ? { sourceDir: resolve(ctx.cwd, opts.sourceDir) } : {}),
          cacheDir,
          logDir,
          ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
          ...(opts.redisCaFile ? { redisTlsCaFile: resolve(ctx.cwd, opts.redisCaFile) } : {}),
          ...(opts.redisSentinels || opts.redisSentinelMaster
            ? {
                redisSentinel: {
                  sentinels: opts.redisSentinels ?? '',
                  master: opts.redisSentinelMaster ?? '',
                },
              }
            : {}),
          keepRunning: opts.keepRunning,
        },
        ctx,
      );
      if (report.checkRun.conclusion === 'failure') throw new CliError('the check run failed', 1);
    });
}
