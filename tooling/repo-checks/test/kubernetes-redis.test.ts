import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVALUATE_QUEUE } from '@evalbot/jobs';
import { freePort, type SecuredRedis, spawnApp, startSecuredRedis, waitFor } from '@evalbot/test-utils';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { find, type Manifest, renderKustomization } from './kubernetes-manifests.ts';

const PASSWORDS: Record<string, string> = {
  'evalbot-gateway': randomBytes(12).toString('hex'),
  'evalbot-worker': randomBytes(12).toString('hex'),
  'evalbot-dashboard': randomBytes(12).toString('hex'),
  'evalbot-keda': randomBytes(12).toString('hex'),
};

// What KEDA's redis scaler runs for a trigger's listName (KEDA 2.x, pkg/scalers/redis_scaler.go):
// one script that reads the key's TYPE and answers ZCARD for a sorted set, LLEN for a list or
// a missing key (SCARD and HLEN for types BullMQ does not use here).
const KEDA_COUNT = `local t = redis.call('TYPE', KEYS[1]).ok
if t == 'zset' then return redis.call('ZCARD', KEYS[1]) end
return redis.call('LLEN', KEYS[1])`;

// The secrets' other values, as deploy/kubernetes/README.md creates them.
const SECRETS: Record<string, string> = {
  'evalbot-gateway/WEBHOOK_SECRET': randomBytes(16).toString('hex'),
  'evalbot-worker/APP_ID': '12345',
  'evalbot-dashboard/DASHBOARD_TOKEN': randomBytes(16).toString('hex'),
};

/** Whether a probe of a container passes, on the host port its container port is mapped to. */
async function probePasses(probe: Manifest, ports: Map<string | number, number>): Promise<boolean> {
  if (probe.httpGet) {
    const port = ports.get(probe.httpGet.port);
    const response = await fetch(`http://127.0.0.1:${port}${probe.httpGet.path}`).catch(() => undefined);
    // As the kubelet judges it: any status from 200 to 399.
    return response !== undefined && response.status >= 200 && response.status < 400;
  }
  const port = ports.get(probe.tcpSocket.port) as number;
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

// Redis started with the StatefulSet's own arguments (the ACL users included), real BullMQ
// queues and a real worker filling the keys the ScaledObjects name: the `keda` user must count
// exactly the jobs BullMQ reports, and reach nothing else. The real apps, started with their
// Deployment's environment, pass their Deployment's probes.
describe("deploy/kubernetes's Redis, KEDA triggers and probes, against a real Redis, BullMQ and the apps", () => {
  let redis: SecuredRedis;
  let objects: Manifest[];
  let keda: Redis;
  const connections: Redis[] = [];
  const connect = (user: string, secret: string) => {
    const connection = new Redis(redis.url({ user, password: PASSWORDS[secret] }), {
      maxRetriesPerRequest: null,
    });
    connections.push(connection);
    return connection;
  };
  /** The counts KEDA reads for a ScaledObject's triggers, by trigger name. */
  const kedaCounts = async (scaledObject: string) => {
    const triggers = find(objects, 'ScaledObject', scaledObject).spec.triggers as Manifest[];
    const counts: Record<string, number> = {};
    for (const trigger of triggers) {
      counts[trigger.name] = Number(await keda.eval(KEDA_COUNT, 1, trigger.metadata.listName));
    }
    return counts;
  };

  beforeAll(async () => {
    objects = await renderKustomization('deploy/kubernetes/examples');
    const statefulSet = find(objects, 'StatefulSet', 'redis');
    const container = statefulSet.spec.template.spec.containers[0] as Manifest;
    const prefix = find(objects, 'ConfigMap', 'evalbot-config').data.BULLMQ_PREFIX as string;
    const env: Record<string, string> = {};
    for (const e of container.env as Manifest[]) {
      env[e.name] = e.valueFrom.secretKeyRef ? (PASSWORDS[e.valueFrom.secretKeyRef.name] as string) : prefix;
    }
    // The kubelet expands $(NAME) in arguments from the container's env.
    const args = (container.args as string[]).map((a) =>
      a.replace(/\$\((\w+)\)/g, (_, n: string) => env[n] ?? ''),
    );
    redis = await startSecuredRedis({ args });
    // KEDA's client (go-redis) runs no INFO, which the keda user may not.
    keda = new Redis(redis.url({ user: 'keda', password: PASSWORDS['evalbot-keda'] }), {
      enableReadyCheck: false,
    });
  }, 60_000);
  afterAll(async () => {
    keda?.disconnect();
    for (const connection of connections) connection.disconnect();
    await redis?.close();
  });

  it("counts each pool's waiting, delayed and running evaluate jobs as BullMQ keeps them", async () => {
    const prefix = find(objects, 'ConfigMap', 'evalbot-config').data.BULLMQ_PREFIX as string;
    // The gateway's user enqueues, a worker's user runs; KEDA's counts follow.
    const queue = new Queue(EVALUATE_QUEUE, { connection: connect('gateway', 'evalbot-gateway'), prefix });
    const gpuQueue = new Queue(`${EVALUATE_QUEUE}-gpu`, {
      connection: connect('gateway', 'evalbot-gateway'),
      prefix,
    });
    expect(await kedaCounts('worker')).toEqual({ waiting: 0, delayed: 0, running: 0 });
    expect(await kedaCounts('worker-gpu')).toEqual({ waiting: 0, delayed: 0, running: 0 });

    await queue.addBulk([
      { name: 'evaluate', data: { n: 1 } },
      { name: 'evaluate', data: { n: 2 } },
      { name: 'evaluate', data: { n: 3 } },
    ]);
    await queue.add('evaluate', { n: 4 }, { delay: 3_600_000 });
    await gpuQueue.add('evaluate', { n: 5 });
    expect(await kedaCounts('worker')).toEqual({ waiting: 3, delayed: 1, running: 0 });
    expect(await kedaCounts('worker-gpu')).toEqual({ waiting: 1, delayed: 0, running: 0 });

    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const worker = new Worker(EVALUATE_QUEUE, () => held, {
      connection: connect('worker', 'evalbot-worker'),
      prefix,
      concurrency: 1,
    });
    try {
      const active = new Promise((resolve) => worker.once('active', resolve));
      await active;
      expect(await kedaCounts('worker')).toEqual({ waiting: 2, delayed: 1, running: 1 });
      const counts = await queue.getJobCounts('wait', 'delayed', 'active');
      expect(counts).toEqual({ wait: 2, delayed: 1, active: 1 });
    } finally {
      release();
      await worker.close();
      await queue.close();
      await gpuQueue.close();
    }
  });

  it('lets the keda user count and nothing else: no job data, no writes, no key outside the prefix', async () => {
    const prefix = find(objects, 'ConfigMap', 'evalbot-config').data.BULLMQ_PREFIX as string;
    await expect(keda.hgetall(`${prefix}:${EVALUATE_QUEUE}:1`)).rejects.toThrow(/NOPERM/);
    await expect(keda.lpush(`${prefix}:${EVALUATE_QUEUE}:wait`, 'x')).rejects.toThrow(/NOPERM/);
    await expect(keda.del(`${prefix}:${EVALUATE_QUEUE}:wait`)).rejects.toThrow(/NOPERM/);
    await expect(keda.eval(KEDA_COUNT, 1, 'elsewhere:wait')).rejects.toThrow(/NOPERM/);
    // In a script, too, only the counting commands run.
    for (const command of ['GET', 'DEL']) {
      await expect(keda.eval(`return redis.call('${command}', KEYS[1])`, 1, `${prefix}:x`)).rejects.toThrow(
        /user executing the script can't run this command/,
      );
    }
    await expect(keda.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
    expect(await keda.ping()).toBe('PONG');
  });

  it.each(['gateway', 'dashboard', 'worker'])(
    "passes the %s Deployment's probes when started with the Deployment's environment",
    async (name) => {
      const deployment = find(objects, 'Deployment', name);
      const container = deployment.spec.template.spec.containers[0] as Manifest;
      const config = find(objects, 'ConfigMap', 'evalbot-config').data as Record<string, string>;
      // Each container port on a free port of this host, each mounted directory in a directory
      // of this test (reachable by the sandbox's uids, as the image's are).
      const ports = new Map<string | number, number>();
      for (const port of container.ports as Manifest[]) {
        const free = await freePort();
        ports.set(port.name, free);
        ports.set(port.containerPort, free);
      }
      const root = await mkdtemp(join(tmpdir(), 'evalbot-k8s-probes-'));
      await chmod(root, 0o711);
      const mounts = ((container.volumeMounts ?? []) as Manifest[]).map((m) => m.mountPath as string);
      const hostPath = (path: string) => {
        const mount = mounts.find((m) => path === m || path.startsWith(`${m}/`));
        return mount ? join(root, path) : path;
      };
      for (const mount of mounts) await mkdir(join(root, mount), { recursive: true, mode: 0o711 });
      const env: Record<string, string> = {};
      for (const e of container.env as Manifest[]) {
        const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
        let value: string | undefined;
        if (e.valueFrom?.configMapKeyRef) value = config[ref.key];
        else if (ref?.key === 'REDIS_PASSWORD') value = PASSWORDS[ref.name];
        else if (ref) value = SECRETS[`${ref.name}/${ref.key}`];
        else value = String(e.value).replace(/\$\((\w+)\)/g, (_, n: string) => env[n] ?? '');
        if (value === undefined) continue;
        if (e.name === 'REDIS_ADDRESS') value = `127.0.0.1:${redis.port}`;
        if (value === '0.0.0.0') value = '127.0.0.1';
        if (ports.has(Number(value))) value = String(ports.get(Number(value)));
        if (value.startsWith('/')) value = hostPath(value);
        env[e.name] = value;
      }
      if (env.PRIVATE_KEY_PATH) {
        const { privateKey } = generateKeyPairSync('rsa', {
          modulusLength: 2048,
          privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        });
        await writeFile(env.PRIVATE_KEY_PATH, privateKey, { mode: 0o400 });
      }
      // What this host's sandbox needs (scripts/lib/sandbox-env.sh), as in the image.
      for (const [key, value] of Object.entries(process.env)) {
        if (value !== undefined && (key.startsWith('PIP_') || key === 'EVALBOT_PYTHON')) env[key] = value;
      }
      const app = spawnApp(name as 'gateway' | 'dashboard' | 'worker', env);
      try {
        for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const probe = container[kind] as Manifest | undefined;
          if (!probe) continue;
          const passed = await waitFor(
            async () => {
              if (app.child.exitCode !== null) throw new Error(`${name} exited: ${app.stderr()}`);
              return probePasses(probe, ports);
            },
            { timeoutMs: 30_000, what: `${name}'s ${kind}` },
          );
          expect(passed, kind).toBe(true);
        }
      } finally {
        await app.stop();
        await rm(root, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
