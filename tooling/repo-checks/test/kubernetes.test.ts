import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVALUATE_QUEUE } from '@evalbot/jobs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_PATH } from '../../../apps/dashboard/src/build-app.ts';
import { type ComposeConfig, composeConfig, durationSeconds, securityOptions } from './deploy-files.ts';
import {
  find,
  KustomizeError,
  type Manifest,
  renderKustomization,
  schemaErrors,
  unknownFieldErrors,
} from './kubernetes-manifests.ts';

// The base alone, and the example overlay: the base with Redis, the GPU pool and the Ingress.
const KUSTOMIZATIONS = ['deploy/kubernetes/base', 'deploy/kubernetes/examples'];
const WORKERS = { worker: 'default', 'worker-gpu': 'gpu' } as const;
const APP_SECRETS = { gateway: 'evalbot-gateway', worker: 'evalbot-worker', dashboard: 'evalbot-dashboard' };

const ENV = [
  'APP_ID=12345',
  'WEBHOOK_SECRET=webhook-secret',
  'PRIVATE_KEY_PATH=/srv/evalbot/github-app.private-key.pem',
  'REDIS_GATEWAY_PASSWORD=gateway-pw',
  'REDIS_WORKER_PASSWORD=worker-pw',
  'REDIS_DASHBOARD_PASSWORD=dashboard-pw',
  '',
].join('\n');

const podSpec = (object: Manifest): Manifest => object.spec.template.spec;
const container = (object: Manifest): Manifest => podSpec(object).containers[0];
/** The names of the secrets a pod reads, through its env or its volumes. */
function secretsRead(object: Manifest): Set<string> {
  const names = new Set<string>();
  for (const c of podSpec(object).containers as Manifest[]) {
    for (const env of (c.env ?? []) as Manifest[]) {
      if (env.valueFrom?.secretKeyRef) names.add(env.valueFrom.secretKeyRef.name);
    }
    for (const from of (c.envFrom ?? []) as Manifest[]) if (from.secretRef) names.add(from.secretRef.name);
  }
  for (const volume of (podSpec(object).volumes ?? []) as Manifest[]) {
    if (volume.secret) names.add(volume.secret.secretName);
  }
  return names;
}
/** A container's env as name → value, `$(NAME)` references expanded as the kubelet does. */
function envOf(object: Manifest, values: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container(object).env as Manifest[]) {
    const from = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
    const raw = from ? values[`${from.name}/${from.key}`] : e.value;
    if (raw === undefined) continue;
    env[e.name] = String(raw).replace(/\$\((\w+)\)/g, (whole, name: string) => env[name] ?? whole);
  }
  return env;
}

describe('deploy/kubernetes', () => {
  const rendered: Record<string, Manifest[]> = {};
  let objects: Manifest[];
  let compose: ComposeConfig;
  beforeAll(async () => {
    for (const dir of KUSTOMIZATIONS) rendered[dir] = await renderKustomization(dir);
    objects = rendered['deploy/kubernetes/examples'] as Manifest[];
    compose = (await composeConfig(['docker-compose.yml'], ENV)).services;
  });

  it.each(KUSTOMIZATIONS)(
    'renders %s into objects that are valid against the Kubernetes and KEDA schemas',
    async (dir) => {
      const list = rendered[dir] as Manifest[];
      expect(list.length).toBeGreaterThan(5);
      const errors = (await Promise.all(list.map(schemaErrors))).flat();
      expect(errors).toEqual([]);
    },
  );

  it('uses no field the Kubernetes and KEDA schemas do not know', async () => {
    expect(await unknownFieldErrors(objects)).toEqual([]);
  }, 60_000);

  it('catches a broken object: a wrong type, a missing field, an unknown kind or field', async () => {
    const worker = structuredClone(find(objects, 'Deployment', 'worker'));
    container(worker).ports[0].containerPort = 'nine-four-six-four';
    expect((await schemaErrors(worker)).join()).toMatch(/containerPort must be integer/);

    const scaled = structuredClone(find(objects, 'ScaledObject', 'worker'));
    delete scaled.spec.scaleTargetRef;
    expect((await schemaErrors(scaled)).join()).toMatch(
      /data\/spec must have required property scaleTargetRef/,
    );

    const misspelt = structuredClone(find(objects, 'Deployment', 'worker'));
    misspelt.kind = 'Deploymnet';
    expect(await schemaErrors(misspelt)).toEqual([
      'Deploymnet worker: no schema for kind Deploymnet in apps/v1',
    ]);

    const typo = structuredClone(find(objects, 'Deployment', 'worker'));
    container(typo).securityContext.procMout = container(typo).securityContext.procMount;
    delete container(typo).securityContext.procMount;
    const gpu = structuredClone(find(objects, 'ScaledObject', 'worker-gpu'));
    gpu.spec.minReplicas = 0;
    const errors = await unknownFieldErrors([find(objects, 'Service', 'gateway'), typo, gpu]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^Deployment worker: .*'"procMout"' does not exist/);
    expect(errors[1]).toMatch(/^ScaledObject worker-gpu: .*'"minReplicas"' does not exist/);
  }, 60_000);

  it.each(KUSTOMIZATIONS)(
    'puts every object of %s in the namespace evalbot, where the secrets are',
    (dir) => {
      for (const object of rendered[dir] as Manifest[]) {
        if (object.kind === 'Namespace') expect(object.metadata.name).toBe('evalbot');
        else expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe('evalbot');
      }
    },
  );

  it('refuses a kustomization field the test-side renderer does not implement, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evalbot-kustomize-'));
    try {
      await writeFile(
        join(dir, 'kustomization.yaml'),
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\npatches: []\n',
      );
      await expect(renderKustomization(dir)).rejects.toThrow(KustomizeError);
      await expect(renderKustomization(dir)).rejects.toThrow(/uses patches, which the test-side renderer/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives each worker pool the sandbox's security settings of docker-compose.yml", () => {
    const options = securityOptions(compose.worker);
    for (const name of Object.keys(WORKERS)) {
      const deployment = find(objects, 'Deployment', name);
      const pod = podSpec(deployment);
      const security = container(deployment).securityContext;
      expect(security.capabilities.drop).toEqual(['ALL']);
      expect([...security.capabilities.add].sort()).toEqual([...compose.worker.cap_add].sort());
      expect(security.privileged).toBe(false);
      // Compose's no-new-privileges.
      expect(options.get('no-new-privileges')).toBe('true');
      expect(security.allowPrivilegeEscalation).toBe(false);
      expect(options.get('seccomp')).toBe('./deploy/seccomp-worker.json');
      expect(security.seccompProfile).toEqual({
        type: 'Localhost',
        localhostProfile: 'evalbot/seccomp-worker.json',
      });
      expect(options.get('apparmor')).toBe('unconfined');
      expect(security.appArmorProfile).toEqual({ type: 'Unconfined' });
      // systempaths=unconfined; Kubernetes accepts it only in a user namespace of the pod's own.
      expect(options.get('systempaths')).toBe('unconfined');
      expect(security.procMount).toBe('Unmasked');
      expect(pod.hostUsers).toBe(false);
      expect(pod.automountServiceAccountToken).toBe(false);
      // The time a worker has to hand its running jobs back on SIGTERM.
      expect(pod.terminationGracePeriodSeconds).toBe(durationSeconds(compose.worker.stop_grace_period));
      // KEDA owns the number of workers; applying the file again must not reset it.
      expect(deployment.spec.replicas).toBeUndefined();
    }
  });

  it('runs the gateway, the dashboard and Redis as non-root, read-only, without capabilities or an API token', () => {
    for (const [kind, name] of [
      ['Deployment', 'gateway'],
      ['Deployment', 'dashboard'],
      ['StatefulSet', 'redis'],
    ] as const) {
      const object = find(objects, kind, name);
      expect(podSpec(object).securityContext.runAsNonRoot, name).toBe(true);
      expect(podSpec(object).securityContext.runAsUser, name).toBeGreaterThan(0);
      expect(podSpec(object).securityContext.seccompProfile, name).toEqual({ type: 'RuntimeDefault' });
      expect(podSpec(object).automountServiceAccountToken, name).toBe(false);
      expect(container(object).securityContext, name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it('keeps a gateway taking deliveries through a rollout or a node drain, and a worker through a rollout', () => {
    const gateway = find(objects, 'Deployment', 'gateway');
    expect(gateway.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(gateway.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const budget = find(objects, 'PodDisruptionBudget', 'gateway');
    expect(budget.spec.minAvailable).toBe(1);
    expect(budget.spec.selector.matchLabels).toEqual(gateway.spec.selector.matchLabels);
    for (const name of Object.keys(WORKERS)) {
      expect(find(objects, 'Deployment', name).spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    }
  });

  it('keeps the GPU pool a copy of the default pool but for its pool, its GPU and its nodes', () => {
    const strip = (deployment: Manifest) => {
      const copy = structuredClone(deployment);
      delete copy.metadata;
      delete copy.spec.selector;
      delete copy.spec.template.metadata;
      const pod = podSpec(copy);
      delete pod.tolerations;
      delete pod.containers[0].resources;
      pod.containers[0].env = pod.containers[0].env.filter(
        (e: Manifest) =>
          !['WORKER_POOLS', 'NVIDIA_DRIVER_CAPABILITIES', 'EVALBOT_GPU_DEVICES'].includes(e.name),
      );
      return copy;
    };
    const gpu = find(objects, 'Deployment', 'worker-gpu');
    expect(strip(gpu)).toEqual(strip(find(objects, 'Deployment', 'worker')));
    expect(container(gpu).env).toContainEqual({ name: 'WORKER_POOLS', value: 'gpu' });
    expect(container(gpu).env).toContainEqual({ name: 'WORKER_CONCURRENCY', value: '1' });
    // The device plugin gives the pod one GPU, which CUDA numbers 0 whatever the node's index.
    expect(container(gpu).env).toContainEqual({ name: 'EVALBOT_GPU_DEVICES', value: '0' });
    expect(container(gpu).resources.limits['nvidia.com/gpu']).toBe(1);
  });

  it('gives the worker volumes of its own for the caches and the job directories, and the key read-only', () => {
    for (const name of Object.keys(WORKERS)) {
      const deployment = find(objects, 'Deployment', name);
      const env = envOf(deployment, {});
      const mounts: Record<string, Manifest> = Object.fromEntries(
        (container(deployment).volumeMounts as Manifest[]).map((m) => [m.mountPath, m]),
      );
      const volumes: Record<string, Manifest> = Object.fromEntries(
        (podSpec(deployment).volumes as Manifest[]).map((v) => [v.name, v]),
      );
      const cache = mounts[env.EVALBOT_CACHE_DIR as string];
      expect(volumes[cache?.name]?.emptyDir?.sizeLimit).toBeDefined();
      const work = mounts['/var/lib/evalbot'];
      expect(env.EVALBOT_WORK_DIR?.startsWith('/var/lib/evalbot/')).toBe(true);
      expect(volumes[work?.name]?.emptyDir?.sizeLimit).toBeDefined();
      const key = Object.values(mounts).find((m) => env.PRIVATE_KEY_PATH?.startsWith(`${m.mountPath}/`));
      expect(key?.readOnly).toBe(true);
      expect(volumes[key?.name]?.secret).toEqual({
        secretName: 'evalbot-worker',
        defaultMode: 0o400,
        items: [{ key: 'private-key.pem', path: env.PRIVATE_KEY_PATH?.split('/').at(-1) }],
      });
    }
  });

  it('hands each app only its own secret: the App key and id to the workers, the webhook secret to the gateway', () => {
    expect(secretsRead(find(objects, 'Deployment', 'gateway'))).toEqual(new Set([APP_SECRETS.gateway]));
    expect(secretsRead(find(objects, 'Deployment', 'dashboard'))).toEqual(new Set([APP_SECRETS.dashboard]));
    for (const name of Object.keys(WORKERS)) {
      expect(secretsRead(find(objects, 'Deployment', name))).toEqual(new Set([APP_SECRETS.worker]));
    }
    const keyNames = (name: string) =>
      (container(find(objects, 'Deployment', name)).env as Manifest[]).map((e) => e.name);
    expect(keyNames('gateway')).toContain('WEBHOOK_SECRET');
    expect(keyNames('worker')).toContain('APP_ID');
    expect(keyNames('worker')).toContain('PRIVATE_KEY_PATH');
    expect(keyNames('dashboard')).toContain('DASHBOARD_TOKEN');
    for (const name of ['gateway', 'dashboard']) {
      expect(keyNames(name)).not.toContain('APP_ID');
      expect(keyNames(name)).not.toContain('PRIVATE_KEY_PATH');
    }
    // No secret value in a manifest: every password comes from a secretKeyRef.
    for (const object of objects) {
      if (!object.spec?.template) continue;
      for (const e of container(object).env ?? []) {
        if (/PASSWORD|SECRET|TOKEN/.test(e.name)) expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
      }
    }
    // Only the gateway takes the ACL's `gateway` user, and so on.
    for (const [name, secret] of Object.entries(APP_SECRETS)) {
      const env = envOf(find(objects, 'Deployment', name), {
        'evalbot-config/REDIS_ADDRESS': 'redis:6379',
        [`${secret}/REDIS_PASSWORD`]: 'pw',
      });
      expect(env.REDIS_URL).toBe(`redis://${name}:pw@redis:6379`);
    }
  });

  it("starts Redis with docker-compose.yml's users and rules, each app's password from its own secret, and a counting-only user for KEDA", () => {
    const redis = find(objects, 'StatefulSet', 'redis');
    const env = envOf(redis, {
      'evalbot-config/BULLMQ_PREFIX': 'evalbot',
      'evalbot-gateway/REDIS_PASSWORD': 'gateway-pw',
      'evalbot-worker/REDIS_PASSWORD': 'worker-pw',
      'evalbot-dashboard/REDIS_PASSWORD': 'dashboard-pw',
      'evalbot-keda/REDIS_PASSWORD': 'keda-pw',
    });
    const args = (container(redis).args as string[]).map((a) =>
      a.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? `(${name} undefined)`),
    );
    const kedaAt = args.indexOf('keda') - 1;
    expect(args[kedaAt]).toBe('--user');
    const [program, ...composeArgs] = (compose.redis.command as unknown[]).map(String);
    expect(program).toBe('redis-server');
    expect(args.slice(0, kedaAt)).toEqual(composeArgs);
    expect(args.slice(kedaAt)).toEqual([
      '--user',
      'keda',
      'on',
      '>keda-pw',
      '~evalbot:*',
      '-@all',
      '+ping',
      '+hello',
      '+eval',
      '+evalsha',
      '+type',
      '+llen',
      '+zcard',
    ]);
    // Its data on a volume of its own, and only evalbot's pods and KEDA let in.
    expect(container(redis).volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    const policy = find(objects, 'NetworkPolicy', 'redis');
    expect(policy.spec.podSelector.matchLabels).toEqual(redis.spec.selector.matchLabels);
    const clients = objects.filter(
      (o) => o.spec?.template?.metadata?.labels?.['evalbot.dev/redis-client'] === 'true',
    );
    expect(clients.map((o) => o.metadata.name).sort()).toEqual([
      'dashboard',
      'gateway',
      'worker',
      'worker-gpu',
    ]);
  });

  it('exposes only the webhook port through the Ingress; metrics, workers and dashboard stay inside the cluster', () => {
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      expect(service.spec.type ?? 'ClusterIP', service.metadata.name).toBe('ClusterIP');
    }
    expect(find(objects, 'Service', 'gateway').spec.ports).toEqual([
      { name: 'webhooks', port: 3000, targetPort: 'webhooks' },
    ]);
    expect(find(objects, 'Service', 'gateway-metrics').spec.ports[0].port).toBe(9465);
    expect(find(objects, 'Service', 'worker-metrics').spec.ports[0].port).toBe(9464);
    expect(find(objects, 'Service', 'dashboard').spec.ports[0].port).toBe(3001);
    const ingresses = objects.filter((o) => o.kind === 'Ingress');
    expect(ingresses).toHaveLength(1);
    const paths = ingresses.flatMap((i) => i.spec.rules.flatMap((r: Manifest) => r.http.paths));
    expect(paths).toEqual([
      {
        path: '/api/github/webhooks',
        pathType: 'Exact',
        backend: { service: { name: 'gateway', port: { name: 'webhooks' } } },
      },
    ]);
  });

  it('probes each app on the health endpoints it serves, on the ports it listens on', () => {
    const probe = (name: string, kind: 'livenessProbe' | 'readinessProbe' | 'startupProbe') => {
      const c = container(find(objects, 'Deployment', name));
      const p = c[kind]?.httpGet ?? c[kind]?.tcpSocket;
      const port = (c.ports as Manifest[]).find((x) => x.name === p?.port)?.containerPort;
      return p ? `${p.path ?? 'tcp'} ${port}` : undefined;
    };
    const gatewayEnv = envOf(find(objects, 'Deployment', 'gateway'), {});
    expect(gatewayEnv.GATEWAY_METRICS_PORT).toBe('9465');
    expect(probe('gateway', 'livenessProbe')).toBe('/healthz 9465');
    expect(probe('gateway', 'readinessProbe')).toBe('/readyz 9465');
    expect(probe('dashboard', 'readinessProbe')).toBe(`${HEALTH_PATH} 3001`);
    expect(probe('dashboard', 'livenessProbe')).toBe('tcp 3001');
    for (const name of Object.keys(WORKERS)) {
      expect(envOf(find(objects, 'Deployment', name), {}).WORKER_METRICS_PORT).toBe('9464');
      expect(probe(name, 'livenessProbe')).toBe('/metrics 9464');
      expect(probe(name, 'startupProbe')).toBe('/metrics 9464');
    }
  });

  it("scales each worker pool with KEDA on its evaluate queue's BullMQ keys, the GPU pool down to zero", () => {
    const prefix = find(objects, 'ConfigMap', 'evalbot-config').data.BULLMQ_PREFIX;
    const queues = { worker: EVALUATE_QUEUE, 'worker-gpu': `${EVALUATE_QUEUE}-gpu` };
    for (const [name, pool] of Object.entries(WORKERS)) {
      const scaled = objects.filter((o) => o.kind === 'ScaledObject' && o.spec.scaleTargetRef.name === name);
      expect(scaled, name).toHaveLength(1);
      const { spec } = scaled[0] as Manifest;
      expect(spec.minReplicaCount).toBe(pool === 'gpu' ? 0 : 1);
      const queue = queues[name as keyof typeof queues];
      const triggers = spec.triggers as Manifest[];
      expect(Object.fromEntries(triggers.map((t) => [t.name, t.metadata.listName]))).toEqual({
        waiting: `${prefix}:${queue}:wait`,
        delayed: `${prefix}:${queue}:delayed`,
        running: `${prefix}:${queue}:active`,
      });
      expect(spec.advanced.scalingModifiers.formula).toBe('waiting + delayed + running');
      // One job per worker: the pool's WORKER_CONCURRENCY.
      const concurrency = envOf(find(objects, 'Deployment', name), {}).WORKER_CONCURRENCY;
      expect(spec.advanced.scalingModifiers.target).toBe(concurrency);
      for (const trigger of triggers) {
        expect(trigger.type).toBe('redis');
        expect(trigger.metadata.username).toBe('keda');
        // KEDA reads the address from the target's container.
        const names = (container(find(objects, 'Deployment', name)).env as Manifest[]).map((e) => e.name);
        expect(names).toContain(trigger.metadata.addressFromEnv);
        const auth = find(objects, 'TriggerAuthentication', trigger.authenticationRef.name);
        expect(auth.spec.secretTargetRef).toEqual([
          { parameter: 'password', name: 'evalbot-keda', key: 'REDIS_PASSWORD' },
        ]);
      }
    }
  });
});
