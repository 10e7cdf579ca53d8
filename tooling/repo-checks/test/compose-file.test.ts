import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HEALTH_PATH } from '../../../apps/dashboard/src/build-app.ts';
import {
  type ComposeConfig,
  composeConfig,
  durationSeconds,
  networksOf,
  parseDockerfile,
  portBindings,
  repoPath,
  securityOptions,
} from './deploy-files.ts';

const APPS = ['gateway', 'worker', 'dashboard'] as const;
const FILES = ['docker-compose.yml', 'docker-compose.gpu.yml'];
// A .env as `evalbot setup` writes it: the App's key in a file, a password per Redis user, a
// dashboard token.
const ENV = [
  'APP_ID=12345',
  'PRIVATE_KEY_PATH=/srv/evalbot/github-app.private-key.pem',
  'WEBHOOK_SECRET=0123456789abcdef',
  'REDIS_URL=redis://localhost:6379',
  'REDIS_GATEWAY_PASSWORD=gateway-pw-0123456789abcdef',
  'REDIS_WORKER_PASSWORD=worker-pw-0123456789abcdef',
  'REDIS_DASHBOARD_PASSWORD=dashboard-pw-0123456789abcdef',
  'DASHBOARD_TOKEN=0123456789abcdef0123456789abcdef',
  '',
].join('\n');
// Every secret .env can hold, and the one service whose environment may carry it (undefined:
// none; the key file is mounted, not passed).
const SECRETS: Record<string, string | undefined> = {
  APP_ID: 'worker',
  PRIVATE_KEY: undefined,
  PRIVATE_KEY_PATH: undefined,
  WEBHOOK_SECRET: 'gateway',
  WEBHOOK_SECRET_PREVIOUS: 'gateway',
  DASHBOARD_USER: 'dashboard',
  DASHBOARD_PASSWORD: 'dashboard',
  DASHBOARD_TOKEN: 'dashboard',
  REDIS_GATEWAY_PASSWORD: 'gateway',
  REDIS_WORKER_PASSWORD: 'worker',
  REDIS_DASHBOARD_PASSWORD: 'dashboard',
};

/** The `--user NAME rule…` directives of the redis service's command, by user name. */
function redisUsers(redis: ComposeConfig): Map<string, string[]> {
  const command = (redis.command as unknown[]).map(String);
  const users = new Map<string, string[]>();
  command.forEach((word, i) => {
    if (word !== '--user') return;
    const end = command.findIndex((w, j) => j > i && w.startsWith('--'));
    const [name = '', ...rules] = command.slice(i + 1, end === -1 ? undefined : end);
    users.set(name, rules);
  });
  return users;
}

describe('docker-compose.yml', () => {
  let config: ComposeConfig;
  let services: ComposeConfig;
  beforeAll(async () => {
    config = await composeConfig(['docker-compose.yml'], ENV);
    services = config.services;
  });

  it('runs Redis, the gateway, the workers and the dashboard, restarting them unless stopped', () => {
    expect(Object.keys(services).sort()).toEqual(['dashboard', 'gateway', 'redis', 'worker']);
    for (const [name, service] of Object.entries(services)) {
      expect((service as ComposeConfig).restart, name).toBe('unless-stopped');
    }
  });

  it('keeps Redis on a named volume with AOF and noeviction, its health a PING that must answer PONG', () => {
    const redis = services.redis;
    const command = (Array.isArray(redis.command) ? redis.command : String(redis.command).split(/\s+/)).map(
      String,
    );
    expect(command[0]).toBe('redis-server');
    expect(command[command.indexOf('--appendonly') + 1]).toBe('yes');
    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    expect(command[command.indexOf('--maxmemory') + 1]).toBe('1gb');
    // redis-cli exits 0 on NOAUTH too: only PONG may count as healthy.
    expect(redis.healthcheck.test).toEqual([
      'CMD-SHELL',
      'redis-cli --user healthcheck --pass unused --no-auth-warning ping | grep -qx PONG',
    ]);
    expect(redisUsers(redis).get('healthcheck')).toEqual(['on', 'nopass', '-@all', '+ping']);
    const dataVolume = String(redis.volumes[0]).split(':');
    expect(dataVolume.slice(0, 2)).toEqual(['redis-data', '/data']);
    expect(Object.keys(config.volumes)).toContain('redis-data');
  });

  it('lets no client into Redis without a password: the default user is off, each app has its own user', () => {
    const users = redisUsers(services.redis);
    expect([...users.keys()].sort()).toEqual(['dashboard', 'default', 'gateway', 'healthcheck', 'worker']);
    expect(users.get('default')).toEqual(['off']);
    for (const app of APPS) {
      const rules = users.get(app) ?? [];
      expect(rules[0], app).toBe('on');
      // The password of .env, and the keys and channels of evalbot's prefix only.
      expect(rules, app).toContain(`>${app}-pw-0123456789abcdef`);
      expect(rules, app).toContain('~evalbot:*');
      expect(rules, app).toContain('&evalbot:*');
      expect(rules, app).not.toContain('nopass');
      expect(rules, app).not.toContain('~*');
      expect(rules, app).not.toContain('allkeys');
      // No FLUSHALL, CONFIG, KEYS, ACL, DEBUG …: every @dangerous command is taken away after +@all.
      expect(rules.indexOf('-@dangerous'), app).toBeGreaterThan(rules.indexOf('+@all'));
      expect(services[app].environment.REDIS_URL, app).toBe(
        `redis://${app}:${app}-pw-0123456789abcdef@redis:6379`,
      );
    }
  });

  it("follows BULLMQ_PREFIX in the Redis users' key and channel patterns", async () => {
    const moved = await composeConfig(['docker-compose.yml'], `${ENV}BULLMQ_PREFIX=acme\n`);
    const rules = redisUsers(moved.services.redis).get('worker') ?? [];
    expect(rules).toContain('~acme:*');
    expect(rules).toContain('&acme:*');
    expect(moved.services.worker.environment.BULLMQ_PREFIX).toBe('acme');
  });

  it('refuses to start without the Redis passwords or the key file, and says to run evalbot setup', async () => {
    for (const missing of ['REDIS_GATEWAY_PASSWORD', 'REDIS_WORKER_PASSWORD', 'REDIS_DASHBOARD_PASSWORD']) {
      const env = ENV.split('\n')
        .filter((line) => !line.startsWith(`${missing}=`))
        .join('\n');
      await expect(composeConfig(['docker-compose.yml'], env), missing).rejects.toThrow(
        new RegExp(`${missing}[\\s\\S]*evalbot setup`),
      );
    }
    const noKey = ENV.split('\n')
      .filter((line) => !line.startsWith('PRIVATE_KEY_PATH='))
      .join('\n');
    await expect(composeConfig(['docker-compose.yml'], noKey)).rejects.toThrow(
      /PRIVATE_KEY_PATH[\s\S]*\.pem/,
    );
  });

  it('puts Redis on an internal network that only its apps join, and publishes no Redis port', () => {
    expect(config.networks.redis.internal).toBe(true);
    const onRedisNetwork = Object.entries(services)
      .filter(([, service]) => Object.keys(networksOf(service)).includes('redis'))
      .map(([name]) => name)
      .sort();
    expect(onRedisNetwork).toEqual(['dashboard', 'gateway', 'redis', 'worker']);
    expect(Object.keys(networksOf(services.redis))).toEqual(['redis']);
    expect(services.redis.ports).toBeUndefined();
  });

  it('starts each app once Redis is healthy, without an env_file: only the variables listed for it', () => {
    for (const app of APPS) {
      const service = services[app];
      expect(service.depends_on, app).toEqual({ redis: { condition: 'service_healthy' } });
      expect(service.env_file, app).toBeUndefined();
      expect(service.cap_drop, app).toEqual(['ALL']);
      expect(service.security_opt, app).toContain('no-new-privileges:true');
    }
    expect(services.worker.environment.APP_ID).toBe('12345');
    expect(services.gateway.environment.WEBHOOK_SECRET).toBe('0123456789abcdef');
    expect(services.dashboard.environment.DASHBOARD_TOKEN).toBe('0123456789abcdef0123456789abcdef');
  });

  it("hands each secret to the one service that needs it: the App's key and id only to the worker", async () => {
    // Every secret set to a value of its own, so that any service handed one shows it.
    const secretOf = (name: string) => `s3cret-${name.toLowerCase()}`;
    const env = Object.keys(SECRETS)
      .map((name) => `${name}=${secretOf(name)}`)
      .join('\n');
    const everything = await composeConfig(['docker-compose.yml'], `${env}\n`);
    for (const app of [...APPS, 'redis']) {
      const environment = JSON.stringify(everything.services[app].environment ?? {});
      for (const [name, owner] of Object.entries(SECRETS)) {
        if (owner === app) expect(environment, `${app} needs ${name}`).toContain(secretOf(name));
        else expect(environment, `${app} must not get ${name}`).not.toContain(secretOf(name));
      }
    }
  });

  it("mounts the App's private key file into the worker alone, as a secret at PRIVATE_KEY_PATH", () => {
    expect(config.secrets['github-app-private-key'].file).toBe('/srv/evalbot/github-app.private-key.pem');
    const mounted = (services.worker.secrets as (string | ComposeConfig)[]).map((s) =>
      typeof s === 'string' ? s : s.source,
    );
    expect(mounted).toEqual(['github-app-private-key']);
    expect(services.worker.environment.PRIVATE_KEY_PATH).toBe('/run/secrets/github-app-private-key');
    expect(services.worker.environment.PRIVATE_KEY).toBeUndefined();
    for (const app of ['gateway', 'dashboard', 'redis']) expect(services[app].secrets, app).toBeUndefined();
  });

  it('builds each app from its target of the root Dockerfile', async () => {
    const targets = parseDockerfile(await readFile(repoPath('Dockerfile'), 'utf8')).map((s) => s.name);
    for (const app of APPS) {
      expect(services[app].build.target, app).toBe(app);
      expect(targets, app).toContain(app);
    }
  });

  it('lets workers scale out: no container name or host port, metrics inside the network, one shared cache', () => {
    const worker = services.worker;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.expose.map(String)).toEqual(['9464']);
    expect(worker.environment.WORKER_METRICS_PORT).toBe('9464');
    expect(worker.environment.EVALBOT_CACHE_DIR).toBe('/var/cache/evalbot');
    expect(String(worker.volumes[0]).split(':').slice(0, 2)).toEqual(['worker-cache', '/var/cache/evalbot']);
    expect(Object.keys(config.volumes)).toContain('worker-cache');
    for (const app of APPS) expect(services[app].container_name, app).toBeUndefined();
  });

  it("keeps each worker's job directories and job logs on a volume of its own, not the container layer", () => {
    const worker = services.worker;
    const workDir = worker.environment.EVALBOT_WORK_DIR;
    expect(workDir).toBe('/var/lib/evalbot/work');
    // An unnamed volume: each scaled worker gets its own, kept across restarts and recreation.
    // A named one would be shared, and a worker would reap another's live job directories.
    const mounts = worker.volumes.map(String);
    expect(mounts).toContain('/var/lib/evalbot');
    for (const mount of mounts) expect(mount.split(':')[1], mount).not.toBe('/var/lib/evalbot');
    expect(`${workDir}/`.startsWith('/var/lib/evalbot/')).toBe(true);
  });

  it('runs the worker unprivileged: every capability dropped but the six that start a sandbox as a per-job uid', () => {
    const worker = services.worker;
    expect(worker.privileged ?? false).toBe(false);
    expect(worker.cap_drop).toEqual(['ALL']);
    expect([...worker.cap_add].map(String).sort()).toEqual(
      ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL', 'SETGID', 'SETUID'].sort(),
    );
    for (const app of APPS) {
      expect(services[app].privileged ?? false, app).toBe(false);
      const added = (services[app].cap_add ?? []).map((c: string) => c.replace(/^CAP_/, ''));
      expect(added, app).not.toContain('SYS_ADMIN');
      expect(added, app).not.toContain('ALL');
    }
    // Replaced by EVALBOT_SANDBOX_UIDS (whose default the image needs).
    expect(worker.environment.EVALBOT_RUN_AS_USER).toBeUndefined();
  });

  it('gives the worker what bubblewrap needs, and no more: the shipped seccomp profile, no AppArmor profile, /proc unmasked', () => {
    const options = securityOptions(services.worker);
    expect(options.get('no-new-privileges')).toBe('true');
    expect(options.get('apparmor')).toBe('unconfined');
    // Compose takes it only in this exact spelling (it sets no masked or read-only paths).
    expect(services.worker.security_opt).toContain('systempaths=unconfined');
    const seccomp = options.get('seccomp') ?? '';
    // Never seccomp=unconfined: the profile is Docker's default with the sandbox's system calls.
    const profile = isAbsolute(seccomp) ? seccomp : resolve(repoPath(), seccomp);
    expect(relative(repoPath(), profile)).toBe('deploy/seccomp-worker.json');
    // The gateway and the dashboard keep Docker's defaults.
    for (const app of ['gateway', 'dashboard']) {
      expect([...securityOptions(services[app]).keys()], app).toEqual(['no-new-privileges']);
    }
  });

  it('gives a worker time to hand its jobs back on SIGTERM before it is killed', () => {
    expect(durationSeconds(services.worker.stop_grace_period)).toBeGreaterThanOrEqual(60);
  });

  it("publishes only the gateway's webhook port; its /metrics and /readyz port is on the compose network only", async () => {
    const gateway = services.gateway;
    expect(portBindings(gateway).map((b) => b.target)).toEqual(['3000']);
    expect(gateway.expose.map(String)).toEqual(['9465']);
    expect(gateway.environment).toMatchObject({
      GATEWAY_METRICS_HOST: '0.0.0.0',
      GATEWAY_METRICS_PORT: '9465',
    });
    // The routes are where the compose file says: not registered by the public app.
    const publicApp = await readFile(repoPath('apps/gateway/src/build-app.ts'), 'utf8');
    const internalApp = await readFile(repoPath('apps/gateway/src/internal-app.ts'), 'utf8');
    expect(publicApp).not.toMatch(/readinessRoute|'\/metrics'/);
    expect(internalApp).toMatch(/readinessRoute/);
    expect(internalApp).toContain("app.get('/metrics'");
  });

  it('publishes the gateway on every interface and the dashboard on 127.0.0.1 only', () => {
    expect(portBindings(services.gateway)).toEqual([{ hostIp: '', published: '3000', target: '3000' }]);
    expect(services.gateway.environment).toMatchObject({ HOST: '0.0.0.0', PORT: '3000' });
    expect(portBindings(services.dashboard)).toEqual([
      { hostIp: '127.0.0.1', published: '3001', target: '3001' },
    ]);
    expect(services.dashboard.environment).toMatchObject({
      DASHBOARD_HOST: '0.0.0.0',
      DASHBOARD_PORT: '3001',
    });
  });

  it('moves the published ports with PORT and DASHBOARD_PORT from .env', async () => {
    const moved = await composeConfig(['docker-compose.yml'], `${ENV}PORT=8080\nDASHBOARD_PORT=9001\n`);
    expect(portBindings(moved.services.gateway)[0]).toMatchObject({ published: '8080', target: '3000' });
    expect(portBindings(moved.services.dashboard)[0]).toMatchObject({
      hostIp: '127.0.0.1',
      published: '9001',
    });
  });

  it('checks the health of the gateway and the dashboard on /healthz, and of the worker on its metrics', async () => {
    const gatewayRoutes = await readFile(repoPath('apps/gateway/src/health-routes.ts'), 'utf8');
    expect(gatewayRoutes).toContain("app.get('/healthz'");
    expect(HEALTH_PATH).toBe('/healthz');
    const probes = { gateway: ':9465/healthz', dashboard: ':3001/healthz', worker: ':9464/metrics' };
    for (const [app, url] of Object.entries(probes)) {
      const test = services[app].healthcheck.test as string[];
      expect(test.slice(0, 3), app).toEqual(['CMD', 'node', '-e']);
      expect(test[3], app).toContain(`http://127.0.0.1${url}`);
    }
  });
});

describe('deploy/seccomp-worker.json', () => {
  interface Rule {
    names: string[];
    action: string;
    args?: unknown[];
    includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
    excludes?: { caps?: string[]; arches?: string[] };
  }
  // What bubblewrap does to make the sandbox as an unprivileged uid (pivot_root and
  // sethostname included: it fails without them), plus clone3 and setns.
  const SANDBOX = ['clone', 'clone3', 'mount', 'pivot_root', 'sethostname', 'setns', 'umount2', 'unshare'];
  let profile: { defaultAction: string; archMap: unknown[]; syscalls: Rule[] };
  beforeAll(async () => {
    const path = repoPath('deploy', 'seccomp-worker.json');
    expect(existsSync(path)).toBe(true);
    profile = JSON.parse(await readFile(path, 'utf8'));
  });

  it("is a deny-by-default profile in Docker's format", () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.archMap.length).toBeGreaterThan(0);
    expect(profile.syscalls.length).toBeGreaterThan(20);
  });

  it('allows the namespace and mount system calls without CAP_SYS_ADMIN and without argument filters', () => {
    for (const name of SANDBOX) {
      const rules = profile.syscalls.filter((r) => r.names.includes(name));
      expect(rules, name).toHaveLength(1);
      const [rule] = rules;
      expect(rule?.action, name).toBe('SCMP_ACT_ALLOW');
      expect(rule?.args ?? [], name).toEqual([]);
      expect(rule?.includes, name).toBeUndefined();
      expect(rule?.excludes, name).toBeUndefined();
    }
  });

  it("keeps the rest of Docker's default: the other CAP_SYS_ADMIN calls still need it, nothing else is newly unconditional", () => {
    const unconditional = new Set(
      profile.syscalls
        .filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.includes && !r.excludes && !r.args)
        .flatMap((r) => r.names),
    );
    const sysAdmin = profile.syscalls.find((r) => r.includes?.caps?.join() === 'CAP_SYS_ADMIN');
    for (const name of [
      'bpf',
      'fsopen',
      'fsmount',
      'open_tree',
      'move_mount',
      'umount',
      'setdomainname',
      'quotactl',
    ]) {
      expect(sysAdmin?.names, name).toContain(name);
      expect(unconditional.has(name), name).toBe(false);
    }
    for (const name of [
      'chroot',
      'reboot',
      'init_module',
      'open_by_handle_at',
      'kexec_load',
      'keyctl',
      'add_key',
    ]) {
      expect(unconditional.has(name), name).toBe(false);
    }
    // Docker's clone flag filter and clone3's ENOSYS apply only without CAP_SYS_ADMIN; they are gone.
    expect(profile.syscalls.filter((r) => r.excludes?.caps?.includes('CAP_SYS_ADMIN'))).toEqual([]);
  });
});

describe('docker-compose.gpu.yml', () => {
  it('reserves the NVIDIA GPUs for the worker and nothing else', async () => {
    const config = await composeConfig(FILES, ENV);
    expect(config.services.worker.deploy.resources.reservations.devices).toEqual([
      { driver: 'nvidia', count: 'all', capabilities: ['gpu'] },
    ]);
    expect(config.services.worker.environment.WORKER_CONCURRENCY).toBe('1');
    // The gpu pool, beside the default one: this host still compares and publishes.
    expect(config.services.worker.environment.WORKER_POOLS).toBe('default,gpu');
    // The base file's settings survive the override: the shared cache and the work volume.
    expect(config.services.worker.volumes).toHaveLength(2);
    for (const app of ['gateway', 'dashboard']) expect(config.services[app].deploy, app).toBeUndefined();
  });

  it('lets a GPU-only host take just the gpu pool through .env', async () => {
    const config = await composeConfig(FILES, `${ENV}WORKER_POOLS=gpu\nEVALBOT_GPU_DEVICES=0,1\n`);
    expect(config.services.worker.environment).toMatchObject({
      WORKER_POOLS: 'gpu',
      EVALBOT_GPU_DEVICES: '0,1',
    });
    // Without the override the workers are the default pool's.
    const plain = await composeConfig(['docker-compose.yml'], ENV);
    expect(plain.services.worker.environment.WORKER_POOLS ?? '').toBe('');
  });
});

// A missing .env.example is a broken checkout: the test fails on reading it, it does not skip.
describe('.env.example', () => {
  it('documents every variable the compose files read', async () => {
    const example = await readFile(repoPath('.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    for (const file of FILES) {
      const text = await readFile(repoPath(file), 'utf8');
      // Variables compose interpolates, and those the file sets for the apps.
      const used = [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);
      const doc = parse(text, { merge: true }) as ComposeConfig;
      for (const service of Object.values(doc.services ?? {})) {
        used.push(...Object.keys((service as ComposeConfig).environment ?? {}));
      }
      const missing = [...new Set(used)].filter(
        (name) => name && !documented.has(name) && !name.startsWith('NVIDIA_'),
      );
      expect(missing, `${file} uses variables .env.example does not mention`).toEqual([]);
    }
  });

  it('hands every variable it documents to a service, or says what compose does instead', async () => {
    const example = await readFile(repoPath('.env.example'), 'utf8');
    const compose = (await Promise.all(FILES.map((file) => readFile(repoPath(file), 'utf8')))).join('\n');
    // What an operator sets in .env must reach the app that reads it: a setting compose drops
    // silently is worse than none. The comment above a variable says when compose sets it itself.
    const instead =
      /Outside Docker|docker compose ignores|docker-compose\.yml sets|Docker image uses|compose sets/i;
    const dropped: string[] = [];
    // The comment block above a run of variables speaks for all of them.
    let comment = '';
    let afterVariable = false;
    for (const line of example.split('\n')) {
      const variable = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1];
      if (variable) {
        if (!compose.includes(`\${${variable}`) && !instead.test(comment)) dropped.push(variable);
      } else if (!line.startsWith('#')) comment = '';
      else comment = afterVariable ? line : `${comment}\n${line}`;
      afterVariable = variable !== undefined;
    }
    expect(dropped, '.env.example variables docker compose never hands to a service').toEqual([]);
  });
});
