import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import {
  BUNDLE_TARGET,
  buildApps,
  bundlePath,
  type DeployedApp,
  IMAGE_NODE_MAJOR,
  NODE_FLAGS,
} from '@evalbot/app-bundle';
import { buildDelivery, deliveryHeaders, startGitHubSim } from '@evalbot/github-sim';
import { freePort, sharedRedis, waitFor } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('Dockerfile', () => {
  let stages: Stage[];
  let ignore: string[];
  beforeAll(async () => {
    stages = parseDockerfile(await readFile(repoPath('Dockerfile'), 'utf8'));
    ignore = await dockerignorePatterns();
  });

  it('is multi-stage, with a target per deployable on the current Node LTS image', () => {
    expect(stages.length).toBeGreaterThan(APPS.length);
    for (const app of APPS) {
      const chain = stageChain(stages, app);
      expect(chain.length, app).toBeGreaterThan(0);
      expect(chain.at(-1)?.from, app).toBe(`node:${IMAGE_NODE_MAJOR}-bookworm-slim`);
    }
  });

  it("lets every package.json's engines admit both the images' Node and the Node development runs on", async () => {
    const here = Number(process.versions.node.split('.')[0]);
    for (const file of ['package.json', ...APPS.map((app) => `apps/${app}/package.json`)]) {
      const range = (JSON.parse(await readFile(repoPath(file), 'utf8')) as { engines?: { node?: string } })
        .engines?.node;
      expect(range, `${file} names its Node versions in engines.node`).toBeDefined();
      const minimum = /^>=\s*(\d+)(?:\.\d+){0,2}$/.exec(range ?? '');
      expect(minimum, `${file}: engines.node "${range}" should be a ">=major.minor" range`).not.toBeNull();
      const oldest = Number(minimum?.[1]);
      expect(oldest, `${file}: the image runs Node ${IMAGE_NODE_MAJOR}`).toBeLessThanOrEqual(
        IMAGE_NODE_MAJOR,
      );
      expect(oldest, `${file}: this machine runs Node ${here}`).toBeLessThanOrEqual(here);
      expect(`node${oldest}`, `${file}: the bundles are built for the oldest Node engines admits`).toBe(
        BUNDLE_TARGET,
      );
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

  it.each(APPS)(
    'runs %s as the bundle `pnpm build` writes, with the Node flags the local stack uses',
    (app) => {
      const cmd = JSON.parse(effective(stages, app, 'CMD')?.args ?? '[]') as string[];
      expect(cmd).toEqual(['node', ...NODE_FLAGS[app], 'dist/main.js']);
      expect(effective(stages, app, 'WORKDIR')?.args).toBe(`/app/apps/${app}`);
      expect(relative(repoPath('apps', app), bundlePath(app))).toBe(join('dist', 'main.js'));
      const copies = stageChain(stages, app)[0]?.instructions.filter((i) => i.keyword === 'COPY') ?? [];
      expect(copies.map((c) => c.args)).toContain(`--from=build /src/apps/${app}/dist /app/apps/${app}/dist`);
      const build = stages.find((s) => s.name === 'build')?.instructions.find((i) => i.keyword === 'RUN');
      expect(build?.args).toContain('pnpm install --offline --frozen-lockfile');
      expect(build?.args).toContain('pnpm build');
      expect(effective(stages, 'build', 'WORKDIR')?.args).toBe('/src');
    },
  );

  it('runs the gateway and the dashboard as a non-root user', () => {
    for (const app of ['gateway', 'dashboard']) {
      const user = effective(stages, app, 'USER')?.args;
      expect(user, app).toBeDefined();
      expect(['root', '0'].includes(user ?? 'root'), `${app} runs as ${user}`).toBe(false);
    }
  });

  it('keeps the worker root only to start the sandbox as per-job uids, with compose dropping capabilities', async () => {
    const user = effective(stages, 'worker', 'USER')?.args ?? 'root';
    expect(['root', '0'], 'setpriv to a per-job uid needs root').toContain(user);
    const env = envOf(stages, 'worker');
    // Replaced by EVALBOT_SANDBOX_UIDS: a worker given it refuses to start.
    expect(env.EVALBOT_RUN_AS_USER).toBeUndefined();
    // No account for PR code: the sandbox uids (50000-50999 by default) must belong to none.
    const runs = stageChain(stages, 'worker').flatMap((s) =>
      s.instructions.filter((i) => i.keyword === 'RUN'),
    );
    for (const run of runs) expect(run.args, `line ${run.line}`).not.toMatch(/\buseradd\b|\badduser\b/);
    const compose = parse(await readFile(repoPath('docker-compose.yml'), 'utf8'), { merge: true });
    expect(compose.services.worker.cap_drop).toEqual(['ALL']);
    expect(compose.services.worker.environment.EVALBOT_RUN_AS_USER).toBeUndefined();
  });

  it('lets the sandbox uids pass through the work and cache directories (o+x)', () => {
    const env = envOf(stages, 'worker');
    expect(env.EVALBOT_CACHE_DIR).toBe('/var/cache/evalbot');
    expect(env.EVALBOT_WORK_DIR).toBe('/var/lib/evalbot/work');
    const runs = stageChain(stages, 'worker')[0]?.instructions.filter((i) => i.keyword === 'RUN') ?? [];
    const setup = runs.find(
      (i) => i.args.includes('mkdir -p') && i.args.includes(env.EVALBOT_WORK_DIR ?? '?'),
    );
    expect(setup?.args).toContain(env.EVALBOT_CACHE_DIR);
    const chmod = /chmod\s+(0?7[15][15])\s+([^&]+)/.exec(setup?.args ?? '');
    expect(chmod, 'a chmod that gives others x').not.toBeNull();
    const paths = chmod?.[2]?.trim().split(/\s+/) ?? [];
    for (const path of ['/var/cache/evalbot', '/var/lib/evalbot', '/var/lib/evalbot/work']) {
      expect(paths, path).toContain(path);
    }
  });

  it('gives the worker bubblewrap, git, python3, venv and pip, and an init to reap what PR code leaves behind', () => {
    const install = stageChain(stages, 'worker')[0]?.instructions.find((i) => /apt-get install/.test(i.args));
    for (const pkg of [
      'bubblewrap',
      'ca-certificates',
      'git',
      'python3',
      'python3-venv',
      'python3-pip',
      'tini',
    ]) {
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
      'tooling/github-sim/test/app-auth.test.ts',
    ]) {
      expect(isDockerIgnored(ignore, path), path).toBe(true);
    }
    for (const path of [
      'package.json',
      'pnpm-lock.yaml',
      'apps/worker/src/main.ts',
      'packages/jobs/src/index.ts',
      // The build stage runs `pnpm build`, the bundler in tooling/.
      'tooling/app-bundle/src/main.ts',
    ]) {
      expect(isDockerIgnored(ignore, path), path).toBe(false);
    }
  });
});

/** Start `node <args>` in `cwd` with exactly `env` (plus PATH); stopped by `stop()`. */
function startNode(args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const answers = (url: string, init?: RequestInit) =>
    waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr}`);
        return (await fetch(url, init).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 30_000, what: `${url} to answer 200` },
    );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  return { answers, stop };
}

/** The image's layout for an app: /app/apps/<app>/package.json and dist/, nothing else. */
async function imageLayout(root: string, app: DeployedApp): Promise<string> {
  const dir = join(root, 'apps', app);
  await mkdir(join(dir, 'dist'), { recursive: true });
  await copyFile(repoPath('apps', app, 'package.json'), join(dir, 'package.json'));
  await copyFile(bundlePath(app), join(dir, 'dist', 'main.js'));
  return dir;
}

describe("the images' apps, laid out as the Dockerfile copies them", () => {
  let root: string;
  let redis: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    await buildApps();
    root = await mkdtemp(join(tmpdir(), 'evalbot-image-'));
    // As the image's /var/lib/evalbot: the sandbox uids pass through it to the work and cache dirs.
    await chmod(root, 0o711);
    redis = await sharedRedis();
  }, 120_000);
  afterAll(async () => {
    await redis?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(`builds bundles whose syntax every Node from ${BUNDLE_TARGET} on parses, the images' Node ${IMAGE_NODE_MAJOR} included`, async () => {
    // This machine's Node is the oldest engines admits (checked above): what it parses, the
    // images' newer Node parses too. esbuild refuses to emit syntax above its target.
    for (const app of APPS) {
      const checked = await run(process.execPath, ['--check', bundlePath(app)]).then(
        () => 'parses',
        (error: Error & { stderr?: string }) => error.stderr ?? error.message,
      );
      expect(checked, app).toBe('parses');
    }
  });

  it('bundles no tooling (stand-in, local stack, bundler, test helpers) into an image', async () => {
    for (const app of APPS) {
      // The linked source map lists every file the bundle holds, relative to apps/<app>/dist.
      const map = JSON.parse(await readFile(`${bundlePath(app)}.map`, 'utf8')) as { sources: string[] };
      const sources = map.sources.map((source) =>
        relative(repoPath(), join(dirname(bundlePath(app)), source)),
      );
      expect(sources, app).toContain(`apps/${app}/src/main.ts`);
      expect(
        sources.filter((source) => source.startsWith('tooling/')),
        `${app}'s bundle`,
      ).toEqual([]);
    }
  });

  it('runs the gateway bundle with no node_modules: it verifies and records a delivery', async () => {
    const dir = await imageLayout(root, 'gateway');
    const port = await freePort();
    const metricsPort = await freePort();
    const secret = 'image-test-secret';
    const gateway = startNode([...NODE_FLAGS.gateway, 'dist/main.js'], dir, {
      REDIS_URL: redis.url,
      BULLMQ_PREFIX: `image-${port}`,
      WEBHOOK_SECRET: secret,
      HOST: '127.0.0.1',
      PORT: String(port),
      GATEWAY_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
    });
    try {
      expect(await gateway.answers(`http://127.0.0.1:${metricsPort}/readyz`)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(404);
      const delivery = buildDelivery({ event: 'pull_request', action: 'labeled', label: 'evaluate' });
      const answer = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
        method: 'POST',
        headers: await deliveryHeaders(delivery, secret),
        body: delivery.body,
      });
      expect(answer.status).toBe(202);
      expect(await answer.json()).toEqual({ status: 'recorded', deliveryId: delivery.id });
    } finally {
      await gateway.stop();
    }
  });

  it('runs the worker bundle with no node_modules: it starts and serves its metrics', async () => {
    const dir = await imageLayout(root, 'worker');
    const sim = await startGitHubSim({ webhookSecret: 'image-test-secret' });
    const port = await freePort();
    // The image's work and cache directories: made by the Dockerfile, mode 0711.
    const work = join(root, 'work');
    const cache = join(root, 'cache');
    for (const path of [work, cache]) {
      await mkdir(path, { recursive: true });
      await chmod(path, 0o711);
    }
    const worker = startNode([...NODE_FLAGS.worker, 'dist/main.js'], dir, {
      REDIS_URL: redis.url,
      BULLMQ_PREFIX: `image-${port}`,
      APP_ID: String(sim.appId),
      PRIVATE_KEY: sim.privateKey ?? '',
      GITHUB_API_URL: sim.url,
      GITHUB_URL: sim.gitUrl,
      EVALBOT_WORK_DIR: work,
      EVALBOT_CACHE_DIR: cache,
      // The image's interpreter is Debian's; the sandbox uids must reach it (a pyenv under /root is out of reach).
      EVALBOT_PYTHON:
        process.env.EVALBOT_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'),
      WORKER_METRICS_HOST: '127.0.0.1',
      WORKER_METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    try {
      expect(await worker.answers(`http://127.0.0.1:${port}/metrics`)).toBe(true);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('evalbot_');
    } finally {
      await worker.stop();
      await sim.close();
    }
  });

  it('runs the dashboard bundle on its production dependencies: Bull Board and its UI files', async () => {
    // The deploy stage's output, then the bundle beside it.
    const dir = join(root, 'apps', 'dashboard');
    await run(
      'pnpm',
      ['--filter', '@evalbot/dashboard', '--prod', '--prefer-offline', 'deploy', '--legacy', dir],
      {
        cwd: repoPath(),
        env: { ...process.env, CI: 'true' },
      },
    );
    expect(existsSync(join(dir, 'node_modules', 'playwright-core')), 'dev dependencies left out').toBe(false);
    expect(existsSync(join(dir, 'node_modules', '@evalbot', 'test-utils')), 'tooling left out').toBe(false);
    expect(existsSync(join(dir, 'node_modules', '@evalbot', 'jobs')), 'workspace dependencies kept').toBe(
      true,
    );
    await mkdir(join(dir, 'dist'), { recursive: true });
    await copyFile(bundlePath('dashboard'), join(dir, 'dist', 'main.js'));
    const port = await freePort();
    const token = 'image-test-token-0123456789';
    const dashboard = startNode([...NODE_FLAGS.dashboard, 'dist/main.js'], dir, {
      REDIS_URL: redis.url,
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PORT: String(port),
      DASHBOARD_TOKEN: token,
      LOG_LEVEL: 'warn',
    });
    try {
      expect(await dashboard.answers(`http://127.0.0.1:${port}/healthz`)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401);
      const auth = { headers: { authorization: `Bearer ${token}` } };
      const page = await (await fetch(`http://127.0.0.1:${port}/`, auth)).text();
      const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page)?.[1];
      expect(script, 'the board page names its script').toBeDefined();
      const asset = await fetch(`http://127.0.0.1:${port}/${script}`, auth);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toContain('javascript');
    } finally {
      await dashboard.stop();
    }
  }, 120_000);
});
