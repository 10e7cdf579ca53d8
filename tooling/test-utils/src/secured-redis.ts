import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '@evalbot/local-stack';

const run = promisify(execFile);

export interface SecuredRedisOptions {
  /** `--requirepass`: the default user's password. */
  password?: string;
  /** ACL users, each as `redis-server --user` takes it: `['gateway', 'on', '>pw', '~evalbot:*', '+@all']`. */
  users?: string[][];
  /** More `redis-server` arguments, after those above (e.g. docker-compose.yml's whole command). */
  args?: string[];
  /** Serve TLS only (no plain port), with a certificate for 127.0.0.1 and localhost signed by a CA made here. */
  tls?: boolean;
}

export interface SecuredRedis {
  host: string;
  port: number;
  /** PEM of the CA that signed the server's certificate (TLS only). */
  ca?: string;
  /** Path of that CA's PEM file, as REDIS_TLS_CA_FILE takes it (TLS only). */
  caFile?: string;
  /** `redis[s]://[user]:password@127.0.0.1:port`. */
  url(auth?: { user?: string; password?: string }): string;
  close(): Promise<void>;
}

/** Make a CA and a server certificate for 127.0.0.1/localhost signed by it, with openssl. */
export async function makeCertificates(dir: string): Promise<void> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=evalbot test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    'server.crt',
    '-extfile',
    'server.ext',
  );
}

/**
 * A private redis-server on a free loopback port that asks for a password, ACL users and/or TLS,
 * for tests of how the apps connect to a Redis that is locked down as in production.
 */
export async function startSecuredRedis(opts: SecuredRedisOptions): Promise<SecuredRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-secured-redis-'));
  const args = ['--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  if (opts.tls) {
    await makeCertificates(dir);
    args.push('--port', '0', '--tls-port', String(port));
    args.push('--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'));
    args.push('--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  if (opts.password) args.push('--requirepass', opts.password);
  for (const user of opts.users ?? []) args.push('--user', ...user);
  args.push(...(opts.args ?? []));
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = once(child, 'exit');
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${output}`);
        return output.includes('Ready to accept connections') && (await accepts(port));
      },
      { timeoutMs: 10_000, what: `redis-server on port ${port}` },
    );
  } catch (error) {
    await close();
    throw error;
  }
  const ca = opts.tls ? await readFile(join(dir, 'ca.crt'), 'utf8') : undefined;
  return {
    host: '127.0.0.1',
    port,
    ...(ca ? { ca, caFile: join(dir, 'ca.crt') } : {}),
    url: (auth = {}) => {
      const userinfo =
        auth.password !== undefined
          ? `${encodeURIComponent(auth.user ?? '')}:${encodeURIComponent(auth.password)}@`
          : '';
      return `${opts.tls ? 'rediss' : 'redis'}://${userinfo}127.0.0.1:${port}`;
    },
    close,
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
