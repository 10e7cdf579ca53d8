import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, sharedRedis, waitFor } from '@evalbot/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  copySources,
  dockerignorePatterns,
  effective,
  envOf,
  isDockerIgnored,
  parseDockerfile,
  repoPath,
  type Stage,
  stageChain,
} from './deploy-files.ts';

const APPS = ['gateway', 'worker', 'dashboard'] as const;
const run = promisify(execFile);

interface PackageJson {
  name: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
}
const packageJson = async (app: string) =>
  JSON.parse(await readFile(repoPath('apps', app, 'package.json'), 'utf8')) as PackageJson;

describe('Dockerfile', () => {
  let stages: Stage[];
  let ignore: string[];
  beforeAll(async () => {
    stages = parseDockerfile(await readFile(repoPath('Dockerfile'), 'utf8'));
    ignore = await dockerignorePatterns();
  });

  it('is multi-stage, with a target per deployable on node:20-bookworm-slim', () => {
    expect(stages.length).toBeGreaterThan(APPS.length);
    for (const app of APPS) {
      const chain = stageChain(stages, app);
      expect(chain.length, app).toBeGreaterThan(0);
      expect(chain.at(-1)?.from, app).toBe('node:20-bookworm-slim');
    }
  });

  it('copies only files that exist in the repository and that .dockerignore lets through', () => {
    const names = new Set<string>();
    for (const stage of stages) {
      for (const { keyword, args, line } of stage.instructions) {
        if (keyword === 'ADD') throw new Error(`line ${line}: use COPY, not ADD`);
        if (keyword !== 'COPY') continue;
        const { from, sources } = copySources(args);
        if (from) {
          // Only from a stage defined above this one.
          expect(names.has(from), `line ${line}: COPY --from=${from}`).toBe(true);
          continue;
        }
        for (const source of sources) {
          if (source === '.') continue;
          expect(existsSync(repoPath(source)), `line ${line}: ${source} exists`).toBe(true);
          expect(isDockerIgnored(ignore, source), `line ${line}: ${source} is in the build context`).toBe(
            false,
          );
        }
      }
      if (stage.name) names.add(stage.name);
    }
  });

  it.each(APPS)("starts %s with its package's start script, from a workspace it deploys", async (app) => {
    const pkg = await packageJson(app);
    const start = pkg.scripts?.start ?? '';
    const cmd = JSON.parse(effective(stages, app, 'CMD')?.args ?? '[]') as string[];
    expect(cmd.join(' ')).toBe(start);
    expect(start).toMatch(/^node --import tsx /);
    // tsx runs the TypeScript in the image, so it must survive `--prod`.
    expect(pkg.dependencies?.tsx, 'tsx is a runtime dependency').toBeDefined();
    expect(effective(stages, app, 'WORKDIR')?.args).toBe(`/app/apps/${app}`);
    const entry = start.split(' ').at(-1) ?? '';
    expect(existsSync(repoPath('apps', app, entry)), `apps/${app}/${entry} exists`).toBe(true);

    const copied = stageChain(stages, app)[0]?.instructions.find(
      (i) => i.keyword === 'COPY' && copySources(i.args).from === 'deploy',
    );
    expect(copied?.args).toContain(`/out/${app} /app/apps/${app}`);
    const deploy = stages.find((s) => s.name === 'deploy')?.instructions.find((i) => i.keyword === 'RUN');
    expect(deploy?.args).toMatch(/pnpm --filter "@evalbot\/\$app" --prod .*deploy .*"\/out\/\$app"/);
    expect(deploy?.args).toContain(`for app in ${APPS.join(' ')}`);
    expect(pkg.name).toBe(`@evalbot/${app}`);
  });

  it('runs the gateway and the dashboard as a non-root user', () => {
    for (const app of ['gateway', 'dashboard']) {
      const user = effective(stages, app, 'USER')?.args;
      expect(user, app).toBeDefined();
      expect(['root', '0'].includes(user ?? 'root'), `${app} runs as ${user}`).toBe(false);
    }
  });

  it('runs PR code in the worker as an unprivileged user the image creates, with compose dropping capabilities', async () => {
    const user = effective(stages, 'worker', 'USER')?.args ?? 'root';
    if (user === 'root' || user === '0') {
      const runAs = envOf(stages, 'worker').EVALBOT_RUN_AS_USER ?? '';
      const uid = runAs.split(':')[0] ?? '';
      expect(Number(uid)).toBeGreaterThan(999);
      const creates = stageChain(stages, 'worker')[0]?.instructions.some(
        (i) => i.keyword === 'RUN' && i.args.includes(`useradd --uid ${uid}`),
      );
      expect(creates, `the image creates uid ${uid}`).toBe(true);
      const compose = parse(await readFile(repoPath('docker-compose.yml'), 'utf8'), { merge: true });
      expect(compose.services.worker.cap_drop).toEqual(['ALL']);
      expect(compose.services.worker.environment.EVALBOT_RUN_AS_USER).toBe(runAs);
    }
  });

  it('gives the worker git, python3, venv and pip, and an init to reap what PR code leaves behind', () => {
    const install = stageChain(stages, 'worker')[0]?.instructions.find((i) => /apt-get install/.test(i.args));
    for (const pkg of ['git', 'python3', 'python3-venv', 'python3-pip', 'tini']) {
      expect(install?.args.split(/\s+/), pkg).toContain(pkg);
    }
    expect(install?.args).toContain('rm -rf /var/lib/apt/lists/*');
    expect(JSON.parse(effective(stages, 'worker', 'ENTRYPOINT')?.args ?? '[]')).toEqual([
      '/usr/bin/tini',
      '--',
    ]);
  });

  it('keeps dependencies, git history, secrets and caches out of the build context', () => {
    for (const path of [
      'node_modules',
      'apps/gateway/node_modules',
      '.git',
      '.env',
      '.env.production',
      '.cache/evalbot',
    ]) {
      expect(isDockerIgnored(ignore, path), path).toBe(true);
    }
    for (const path of [
      'package.json',
      'pnpm-lock.yaml',
      'apps/worker/src/main.ts',
      'packages/jobs/src/index.ts',
    ]) {
      expect(isDockerIgnored(ignore, path), path).toBe(false);
    }
  });
});

describe("the Dockerfile's deploy step", () => {
  it('produces a dashboard directory that starts with tsx from its own node_modules', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evalbot-deploy-'));
    const redis = await sharedRedis();
    let child: ReturnType<typeof spawn> | undefined;
    try {
      // The image's layout: /app/tsconfig.base.json and /app/apps/dashboard.
      const app = join(dir, 'apps', 'dashboard');
      await mkdir(join(dir, 'apps'), { recursive: true });
      await copyFile(repoPath('tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
      await run(
        'pnpm',
        ['--filter', '@evalbot/dashboard', '--prod', '--prefer-offline', 'deploy', '--legacy', app],
        {
          cwd: repoPath(),
          env: { ...process.env, CI: 'true' },
        },
      );
      expect(existsSync(join(app, 'node_modules', 'playwright-core')), 'dev dependencies left out').toBe(
        false,
      );

      const port = await freePort();
      child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: app,
        env: {
          PATH: process.env.PATH ?? '',
          REDIS_URL: redis.url,
          DASHBOARD_HOST: '127.0.0.1',
          DASHBOARD_PORT: String(port),
          DASHBOARD_TOKEN: 'deploy-test-token-0123456789',
          LOG_LEVEL: 'warn',
        },
        stdio: 'ignore',
      });
      const health = await waitFor(
        async () => {
          if (child?.exitCode !== null) throw new Error(`the dashboard exited with ${child?.exitCode}`);
          return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
        },
        { timeoutMs: 30_000, what: 'the deployed dashboard to answer /healthz' },
      );
      expect(health).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401);
    } finally {
      if (child && child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      await redis.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
