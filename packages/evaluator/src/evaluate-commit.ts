import { chmod, lstat, mkdir, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RunResult, SideSuccess, Stage } from '@evalbot/jobs';
import { redactSecrets } from '@evalbot/logger';
import {
  MAX_REPO_CONFIG_BYTES,
  REPO_CONFIG_FILE,
  type RepoConfig,
  RepoConfigError,
} from '@evalbot/repo-config';
import { assertSandboxCanReach } from './assert-sandbox-can-reach.ts';
import { commitKey, resultKey, splitIgnored } from './content-key.ts';
import { defaultSandbox } from './default-sandbox.ts';
import { type EnvironmentFacts, environmentFactsOf, readEnvironmentFacts } from './environment-facts.ts';
import type { EvaluateCommitOptions, EvaluateResult } from './evaluate-options.ts';
import { fetchCommit } from './fetch-commit.ts';
import { chownTree } from './file-tree.ts';
import { InfrastructureError } from './infrastructure-error.ts';
import { createJobDir } from './job-dir.ts';
import { LogCollector } from './log-collector.ts';
import { preparePythonEnv } from './prepare-python-env.ts';
import { killProcessesWithEnv, killProcessGroup } from './process-group.ts';
import { resolvePython } from './python-interpreter.ts';
import { readFileInside, unlinkInside } from './read-file-inside.ts';
import { readMetrics } from './read-metrics.ts';
import { readRepoConfig, resolveWorkingDirectory } from './read-repo-config.ts';
import { resultOfCommit, reusedResult } from './reused-result.ts';
import { runSandboxed } from './run-sandboxed.ts';
import { describeLimitHit, type SandboxIdentity } from './sandbox/index.ts';
import { downloadEnvOf, jobSandboxEnvs } from './sandbox-env.ts';
import { type RunStep, type StepFailure, stepFailure } from './step.ts';
import { toSideOutcome } from './to-side-outcome.ts';
import { verdictSettingsOf } from './verdict-settings.ts';

const DEFAULT_CLONE_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_GRACE_MS = 3000;

/**
 * Evaluate one commit: fetch it into a fresh directory, read its `.evalbot.yml`, prepare its
 * Python environment, run its setup and run commands (`repeats` times) in a sandbox, and read
 * its metrics. Never throws for the PR's own failures (returned with the stage and a message a
 * PR author can act on); throws `InfrastructureError` when the commit cannot be fetched for
 * reasons of the server or network. The job directory is removed in every case.
 */
export async function evaluateCommit(opts: EvaluateCommitOptions): Promise<EvaluateResult> {
  const workerEnv = opts.workerEnv ?? process.env;
  // Real paths: the sandbox binds them where they are, and a symlinked parent would leave
  // the step's working directory and the environments' scripts pointing at nothing there.
  const workRoot = await realDir(resolve(opts.workRoot));
  const cacheDir = await realDir(resolve(opts.cacheDir));
  const graceMs = opts.killGraceMs ?? DEFAULT_GRACE_MS;
  const sandbox = opts.sandbox === 'unsafe-none' ? undefined : (opts.sandbox ?? (await defaultSandbox()));
  const python = await resolvePython(opts.python ?? workerEnv.EVALBOT_PYTHON ?? 'python3', workerEnv);
  if (sandbox) {
    await assertSandboxCanReach({ workRoot, cacheDir, python: python.executable }).catch((error: Error) => {
      throw new InfrastructureError(error.message, false);
    });
  }
  const gitEnv = 'url' in opts.source ? (opts.source.gitEnv ?? {}) : {};
  const secrets = [...(opts.secrets ?? []), ...Object.values(gitEnv).filter((v) => v.length >= 8)];
  const log = new LogCollector({
    secrets,
    onLog: opts.onLog,
    onOutput: opts.onOutput,
    limits: opts.logLimits,
  });
  const { sha } = opts.source;
  const durations: Partial<Record<Stage, number>> = {};
  const runs: RunResult[] = [];
  let environment: EnvironmentFacts = { packages: {} };
  let environmentReused = false;
  let environmentDerivedFrom: string | undefined;
  let config: RepoConfig | undefined;

  const progress = (stage: Stage, message: string, percent: number) => {
    try {
      opts.onProgress?.({ stage, message, percent: Math.round(percent) });
    } catch {
      // A failing progress callback must not fail the evaluation.
    }
  };
  const timed = async <T>(stage: Stage, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      durations[stage] = (durations[stage] ?? 0) + (Date.now() - started);
    }
  };
  const failure = (stage: Stage, message: string, extra: Partial<EvaluateResult> = {}): EvaluateResult => ({
    ok: false,
    sha,
    stage,
    message: redactSecrets(message, secrets),
    logTail: log.tail(),
    durations,
    runs,
    environment,
    environmentReused,
    ...(environmentDerivedFrom ? { environmentDerivedFrom } : {}),
    resultReused: false,
    ...(config ? { config } : {}),
    ...extra,
  });
  const cancelled = (stage: Stage) => failure(stage, 'cancelled', { cancelled: true });
  const reused = (cached: SideSuccess, key: string): EvaluateResult => {
    log.line(`evalbot: same content as ${cached.sha.slice(0, 12)}: its result is reused, nothing is run`);
    progress('metrics', `reused the result of ${cached.sha.slice(0, 12)} (same content)`, 100);
    return reusedResult(cached, sha, key);
  };
  // A commit (with the base it takes its settings from) evaluated before: no clone needed.
  const results = opts.results;
  const ownCommitKey = results
    ? commitKey({
        scope: results.scope,
        side: opts.side,
        sha,
        settingsFrom: opts.verdictSettingsFrom?.sha,
        python,
      })
    : undefined;
  const known = results && ownCommitKey ? await resultOfCommit(results.store, ownCommitKey) : undefined;
  if (known) return reused(known.result, known.key);

  const identity: SandboxIdentity | undefined = await sandbox?.leaseIdentity();
  // A root worker hands the job's files to the job's uid; otherwise they are the worker's already.
  const owner = identity && process.getuid?.() === 0 ? identity : undefined;
  const job = await createJobDir(workRoot).catch(async (error: unknown) => {
    await identity?.release();
    throw error;
  });
  let releaseEnv: (() => Promise<void>) | undefined;
  const groups = new Set<number>();
  const onGroup = (event: 'start' | 'end', pgid: number) => {
    if (event === 'start') groups.add(pgid);
    else groups.delete(pgid);
    job.trackGroup(event, pgid);
  };
  try {
    progress('clone', `fetching ${sha.slice(0, 12)}`, 0);
    const fetched = await timed('clone', () =>
      fetchCommit({
        source: opts.source,
        dir: job.checkout,
        allowedOrigin: opts.allowedOrigin,
        gitHome: job.gitHome,
        workerEnv,
        timeoutMs: opts.cloneTimeoutMs ?? DEFAULT_CLONE_TIMEOUT_MS,
        graceMs,
        signal: opts.signal,
        log,
        secrets,
        onGroup,
        // The checkout is the first thing written to the job directory: it counts against its limit.
        maxCheckoutBytes: sandbox?.limits.diskBytes,
        ...(opts.verdictSettingsFrom
          ? {
              alsoRead: {
                ...opts.verdictSettingsFrom,
                path: REPO_CONFIG_FILE,
                maxBytes: MAX_REPO_CONFIG_BYTES,
              },
            }
          : {}),
      }),
    );
    if (!fetched.ok) return fetched.cancelled ? cancelled('clone') : failure('clone', fetched.message);

    progress('config', 'reading .evalbot.yml', 10);
    let workDir: string;
    let settingsSure = true;
    try {
      const own = await timed('config', () => readRepoConfig(job.checkout));
      const settings = verdictSettingsOf(fetched.alsoRead, opts.verdictSettingsFrom, own, log);
      settingsSure = settings.sure;
      config = {
        ...own,
        repeats: settings.repeats,
        seed: settings.seed,
        ignore: settings.ignore,
        resources: settings.resources,
      };
      workDir = await timed('config', () => resolveWorkingDirectory(job.checkout, own));
    } catch (error) {
      if (error instanceof RepoConfigError) return failure('config', error.message, { configError: error });
      throw error;
    }
    const cfg = config;
    if (opts.signal?.aborted) return cancelled('config');

    // What `ignore:` lists is removed before anything runs: the result then depends only on
    // the files its key covers, and no PR can make a result hang on a file the key leaves out.
    const { kept, ignored } = splitIgnored(fetched.tree, cfg.ignore, cfg.requirements);
    if (await usesGitLfs(job.checkout)) {
      log.line(
        'evalbot: .gitattributes stores files in Git LFS (filter=lfs); evalbot does not fetch LFS objects, so those files hold LFS pointers, not their content',
      );
    }
    let notRemoved = 0;
    if (ignored.length > 0) {
      await timed('config', async () => {
        for (const entry of ignored) {
          // A submodule is an empty directory here, nothing to remove.
          if (entry.type === 'blob' && !(await unlinkInside(job.checkout, entry.path))) notRemoved++;
        }
      });
      log.line(`evalbot: ${ignored.length} file(s) matched by ignore: removed before the evaluation`);
    }
    // A result is keyed by file names: one that is not UTF-8 reads the same as another, and an
    // ignored file that could not be removed would be seen by the run but not by the key.
    const undecodable = fetched.tree.find((entry) => entry.undecodable);
    const keyable = !undecodable && notRemoved === 0;
    if (results && !keyable) {
      log.line(
        undecodable
          ? `evalbot: the file name ${JSON.stringify(undecodable.path)} is not UTF-8: this result is neither reused nor kept for reuse`
          : `evalbot: ${notRemoved} file(s) matched by ignore could not be removed: this result is neither reused nor kept for reuse`,
      );
    }
    let ownResultKey: string | undefined;
    if (results && keyable) {
      ownResultKey = resultKey({ scope: results.scope, side: opts.side, entries: kept, config: cfg, python });
      // Only a commit key whose settings were read for sure: an unreadable base config gave defaults.
      if (ownCommitKey && settingsSure) await results.store.rememberCommit(ownCommitKey, ownResultKey);
      const cached = await results.store.get(ownResultKey);
      if (cached) return reused(cached, ownResultKey);
    }
    try {
      opts.onEvaluating?.();
    } catch {
      // As with progress: a failing callback must not fail the evaluation.
    }

    const limitMs = Math.min(cfg.timeout_minutes * 60_000, opts.maxTimeoutMs);
    const deadline = Date.now() + limitMs;
    const timedOut = (stage: Stage, command: string) =>
      failure(
        stage,
        `\`${command}\` timed out after ${formatDuration(limitMs)} (${describeLimit(cfg, limitMs)})`,
      );
    const fromStep = (stage: Stage, f: StepFailure) =>
      f.kind === 'cancelled'
        ? cancelled(stage)
        : f.kind === 'timed-out'
          ? timedOut(stage, f.command)
          : failure(stage, f.message);
    if (owner) {
      // The job's uid may traverse the job directory (bubblewrap, started as that uid, binds its
      // checkout, home and venv layer from there) but not change it; only those are its own.
      await chmod(job.root, 0o711);
      for (const dir of [job.checkout, job.home]) await chownTree(dir, owner);
    }
    let sharedEnvDir: string | undefined;
    const pythonDirs = python.installDirs.filter((dir) => dir !== '/usr' && !dir.startsWith('/usr/'));
    const runStep: RunStep = async (step) => {
      if (!step.log) log.line(`$ ${step.label}`);
      const common = {
        cwd: step.cwd,
        env: step.env,
        deadline: step.timeoutMs ? Math.min(deadline, Date.now() + step.timeoutMs) : deadline,
        signal: opts.signal,
        log: step.log ?? log,
        graceMs,
        onGroup,
      };
      if (!sandbox || !identity || step.asWorker) {
        return runSandboxed({ argv: step.argv, ...common, sweepEnv: `HOME=${job.home}` });
      }
      const mine = [job.checkout, job.home, ...((await exists(job.venv)) ? [job.venv] : [])];
      const view = {
        readOnly: [
          ...pythonDirs,
          ...(sharedEnvDir ? [sharedEnvDir] : []),
          ...((await exists(job.wheels)) ? [job.wheels] : []),
        ],
        writable: [...mine, ...(step.writable ?? [])],
        cwd: step.cwd,
        // The GPU a pool's worker leased to this training, if any: only its device nodes.
        gpus: (workerEnv.CUDA_VISIBLE_DEVICES ?? '').split(',').filter((gpu) => gpu.trim() !== ''),
      };
      const command = await sandbox.command(step.argv, view, identity);
      const result = await runSandboxed({
        ...common,
        argv: command.argv,
        jail: {
          cgroup: command.cgroup,
          disk: { paths: [...mine, ...(step.writable ?? [])], maxBytes: sandbox.limits.diskBytes },
        },
      });
      if (result.limitHit) result.limitMessage = describeLimitHit(result.limitHit, sandbox.limits);
      return result;
    };
    const envs = jobSandboxEnvs({
      workerEnv,
      home: job.home,
      // In the sandbox, /tmp is private and size-capped; without it, a directory of the job.
      tmpDir: sandbox ? '/tmp' : job.tmp,
      repoEnv: cfg.env,
      side: opts.side,
      seed: cfg.seed,
      jobPipCacheDir: join(job.home, '.cache', 'pip'),
      // Sandboxed builds install offline from downloaded wheels: nothing to cache. Without the
      // sandbox the worker builds as itself into cacheDir/pip (nothing is isolated then).
      sharedPipCacheDir: sandbox ? undefined : join(cacheDir, 'pip'),
      offline: sandbox !== undefined,
    });

    progress('setup', 'preparing the Python environment', 15);
    const setup = await timed('setup', async () => {
      const prepared = await preparePythonEnv({
        python,
        cacheDir,
        checkout: job.checkout,
        jobVenv: job.venv,
        wheelsDir: job.wheels,
        config: cfg,
        runStep,
        envFor: envs.forJob,
        sharedEnvFor: envs.forSharedBuild,
        downloadEnv: downloadEnvOf(opts.downloadEnv ?? process.env, join(cacheDir, 'pip-downloads')),
        owner,
        deadline,
        signal: opts.signal,
        note: (line) => log.line(line),
        onEnvironmentCache: opts.onEnvironmentCache,
        cacheMaxBytes: opts.cacheMaxBytes,
        onCacheSize: opts.onCacheSize,
      });
      if (!prepared.ok) return prepared;
      releaseEnv = prepared.env.release;
      sharedEnvDir = prepared.env.sharedDir;
      environmentReused = prepared.env.reused;
      environmentDerivedFrom = prepared.env.derivedFrom;
      const env = envs.forJob(prepared.env.virtualEnv, prepared.env.binDirs);
      for (const [i, command] of cfg.setup.entries()) {
        progress('setup', `setup ${i + 1}/${cfg.setup.length}: ${command}`, 20 + (15 * i) / cfg.setup.length);
        const result = await runStep({ argv: ['sh', '-c', command], label: command, cwd: workDir, env });
        const failed = stepFailure(command, result);
        if (failed) return { ok: false as const, failure: failed };
      }
      // Without setup commands the job's layer is empty: its facts are its shared environment's.
      environment = await environmentFactsOf(
        cfg.setup.length === 0 ? prepared.env.sharedDir : undefined,
        () => readEnvironmentFacts({ runStep, virtualEnv: prepared.env.virtualEnv, cwd: job.home, env }),
      );
      return prepared;
    });
    if (!setup.ok) return fromStep('setup', setup.failure);

    for (let i = 0; i < cfg.repeats; i++) {
      const seed = cfg.seed + i;
      const label =
        cfg.repeats > 1 ? `${cfg.run} (run ${i + 1}/${cfg.repeats}, EVALBOT_SEED=${seed})` : cfg.run;
      progress('run', `running ${label}`, 40 + (55 * i) / cfg.repeats);
      // A metrics file committed to the repo or left by the previous repeat must not count.
      await unlinkInside(job.checkout, join(cfg.working_directory, cfg.metrics_file));
      const result = await timed('run', () =>
        runStep({
          argv: ['sh', '-c', cfg.run],
          label,
          cwd: workDir,
          env: envs.forJob(setup.env.virtualEnv, setup.env.binDirs, seed),
        }),
      );
      const failed = stepFailure(cfg.run, result);
      if (failed) return fromStep('run', failed);

      progress('metrics', `reading ${cfg.metrics_file}`, 40 + (55 * (i + 1)) / cfg.repeats);
      const parsed = await timed('metrics', () =>
        readMetrics({
          root: job.checkout,
          displayDir: cfg.working_directory,
          file: cfg.metrics_file,
          command: cfg.run,
        }),
      );
      if (!parsed.ok) return failure('metrics', parsed.message);
      for (const note of parsed.notes) log.line(`evalbot: ${note}`);
      runs.push({
        seed,
        metrics: parsed.metrics,
        history: parsed.history,
        ...(Object.keys(parsed.historyEpochs).length > 0 ? { historyEpochs: parsed.historyEpochs } : {}),
        durationMs: result.durationMs,
      });
    }
    progress('metrics', 'done', 100);
    const succeeded: EvaluateResult = {
      ok: true,
      sha,
      runs,
      durations,
      logTail: log.tail(),
      environment,
      environmentReused,
      ...(environmentDerivedFrom ? { environmentDerivedFrom } : {}),
      resultReused: false,
      config: cfg,
      ...(ownResultKey ? { resultKey: ownResultKey } : {}),
    };
    if (results && ownResultKey) {
      const outcome = toSideOutcome(succeeded);
      // Reuse is a saving, not the result: a store that fails must not fail the evaluation.
      if (outcome.ok) {
        await results.store.put(ownResultKey, outcome).catch((error: Error) => {
          log.line(`evalbot: could not store the result for reuse: ${error.message}`);
        });
      }
    }
    return succeeded;
  } finally {
    for (const pgid of groups) await killProcessGroup(pgid, { graceMs: 0 });
    // Sandboxed steps leave nothing running (each ended with its pid namespace); without the
    // sandbox, whatever left its process group is found by the job's HOME.
    if (!sandbox) await killProcessesWithEnv(`HOME=${job.home}`);
    try {
      await releaseEnv?.();
      await job.remove();
    } finally {
      await identity?.release();
    }
  }
}

async function realDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  return realpath(path);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const minutes = ms / 60_000;
  return `${Number.isInteger(minutes) ? minutes : minutes.toFixed(1)} min`;
}

function describeLimit(config: RepoConfig, limitMs: number): string {
  if (limitMs >= config.timeout_minutes * 60_000) {
    return `timeout_minutes: ${config.timeout_minutes}; the limit covers setup and run`;
  }
  return `the worker's maximum; .evalbot.yml asks for timeout_minutes: ${config.timeout_minutes}`;
}

/** Whether the checkout's top `.gitattributes` hands files to Git LFS (a regular file, read safely). */
async function usesGitLfs(checkout: string): Promise<boolean> {
  const text = await readFileInside(checkout, '.gitattributes', 64 * 1024).catch(() => '');
  return /^[^#\n]*\sfilter=lfs\b/m.test(text);
}
