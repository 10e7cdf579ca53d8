import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv, promisify } from 'node:util';
import { parse } from 'yaml';

/** The repository root. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const repoPath = (...parts: string[]) => join(ROOT, ...parts);

// ---------------------------------------------------------------------------------------------
// Dockerfile

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  name: string | undefined;
  /** The image, with `ARG`s declared before the first FROM substituted. */
  from: string;
  instructions: Instruction[];
}

/** Split a Dockerfile into instructions: comments dropped, `\` continuations joined. */
function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = `${line.replace(/\\\s*$/, '')} ${next.trim()}`;
    }
    const match = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) {
      out.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: start + 1 });
    }
  }
  return out;
}

export function parseDockerfile(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '');
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, from, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [key = '', value = ''] = instruction.args.split('=');
      args.set(key, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** A stage and the stages it is built `FROM`, nearest first. */
export function stageChain(stages: Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  let current = stages.find((s) => s.name === name);
  while (current) {
    chain.push(current);
    const parent = current.from;
    current = stages.find((s) => s.name === parent);
  }
  return chain;
}

/** The last value of `keyword` in a stage, looking through the stages it is built from. */
export function effective(stages: Stage[], name: string, keyword: string): Instruction | undefined {
  for (const stage of stageChain(stages, name)) {
    const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found;
  }
  return undefined;
}

/** `ENV` values a stage sets (both `K=V K2=V2` and `K V` forms), inherited ones included. */
export function envOf(stages: Stage[], name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const stage of stageChain(stages, name).reverse()) {
    for (const { keyword, args } of stage.instructions) {
      if (keyword !== 'ENV') continue;
      if (!args.includes('=')) {
        const [key = '', ...rest] = args.split(/\s+/);
        env[key] = rest.join(' ');
        continue;
      }
      for (const pair of args.match(/\S+=("[^"]*"|\S*)/g) ?? []) {
        const eq = pair.indexOf('=');
        env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"|"$/g, '');
      }
    }
  }
  return env;
}

/** `COPY [--flags] src... dest` → flags and sources. */
export function copySources(args: string): { from?: string; sources: string[] } {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from ? { from } : {}), sources: rest.slice(0, -1) };
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (glob.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern that names a directory excludes everything in it.
  return new RegExp(`^${source}(?:/.*)?$`);
}

/** Whether `.dockerignore`'s patterns (globs with `**`; a later `!` line re-includes) exclude `path`. */
export function isDockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    if (globToRegExp(pattern).test(path)) ignored = !negate;
  }
  return ignored;
}

export async function dockerignorePatterns(): Promise<string[]> {
  return (await readFile(repoPath('.dockerignore'), 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

// ---------------------------------------------------------------------------------------------
// Compose

const run = promisify(execFile);

const HAS_DOCKER_COMPOSE = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].some(existsSync);

// biome-ignore lint/suspicious/noExplicitAny: a compose file is free-form YAML; tests read what they check.
export type ComposeConfig = Record<string, any>;

/** `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, as compose interpolates them. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, op?: string, word?: string) => {
    const value = env[name];
    if (value) return value;
    if (op === '?') throw new Error(`required variable ${name} is missing a value: ${word}`);
    return op === '-' ? (word ?? '') : '';
  });
}

/**
 * The compose configuration as Docker would use it, with `.env` holding `envText`: the output of
 * `docker-compose config` (Debian's docker-compose, which needs no Docker engine for this) when
 * it is installed, else the files parsed here with merge keys, interpolation and env_file applied.
 */
export async function composeConfig(files: string[], envText: string): Promise<ComposeConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-compose-'));
  try {
    for (const file of files) await copyFile(repoPath(file), join(dir, file));
    // Files the compose files name by relative path (the worker's seccomp profile).
    await cp(repoPath('deploy'), join(dir, 'deploy'), { recursive: true });
    await writeFile(join(dir, '.env'), envText);
    if (HAS_DOCKER_COMPOSE) {
      const { stdout } = await run('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '' },
      });
      return parse(stdout) as ComposeConfig;
    }
    const env = parseEnv(envText) as Record<string, string>;
    const merged: ComposeConfig = {};
    for (const file of files) {
      const doc = parse(interpolate(await readFile(repoPath(file), 'utf8'), env), {
        merge: true,
      }) as ComposeConfig;
      for (const [name, service] of Object.entries(doc.services ?? {})) {
        merged.services ??= {};
        const current = merged.services[name] ?? {};
        // As compose does: env_file first, `environment` over it, an override's over the base's.
        const fromFile = (service as ComposeConfig).env_file ? env : {};
        merged.services[name] = {
          ...current,
          ...(service as object),
          environment: { ...fromFile, ...current.environment, ...(service as ComposeConfig).environment },
        };
      }
      merged.volumes = { ...merged.volumes, ...doc.volumes };
      merged.networks = { ...merged.networks, ...doc.networks };
      merged.secrets = { ...merged.secrets, ...doc.secrets };
    }
    return merged;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Published ports of a service, from either the short or the long syntax. */
export function portBindings(
  service: ComposeConfig,
): { hostIp: string; published: string; target: string }[] {
  return (service.ports ?? []).map((port: string | ComposeConfig) => {
    if (typeof port === 'object') {
      return { hostIp: port.host_ip ?? '', published: String(port.published), target: String(port.target) };
    }
    const parts = String(port)
      .replace(/\/tcp$/, '')
      .split(':');
    const target = parts.pop() ?? '';
    const published = parts.pop() ?? '';
    return { hostIp: parts.join(':'), published, target };
  });
}

/** A service's networks as name → settings, from either the list or the map syntax. */
export function networksOf(service: ComposeConfig): Record<string, unknown> {
  const networks = service.networks ?? {};
  return Array.isArray(networks) ? Object.fromEntries(networks.map((n: string) => [n, null])) : networks;
}

/** A service's `security_opt` as key → value (`no-new-privileges:true`, `seccomp=path`, …). */
export function securityOptions(service: ComposeConfig): Map<string, string> {
  const options = new Map<string, string>();
  for (const option of (service.security_opt ?? []) as string[]) {
    const at = /[=:]/.exec(option)?.index ?? option.length;
    options.set(option.slice(0, at), option.slice(at + 1));
  }
  return options;
}

/** Seconds in a compose duration such as `2m`, `90s`, `1m30s`. */
export function durationSeconds(value: string): number {
  let total = 0;
  for (const [, n, unit] of String(value).matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms|us)/g)) {
    total += Number(n) * ({ h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 }[unit as 'h'] ?? 0);
  }
  return total;
}
