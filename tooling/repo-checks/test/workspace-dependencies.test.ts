import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoPath } from './deploy-files.ts';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** `package.json` of every package in a workspace folder (`apps`, `packages`, `tooling`), by path. */
async function manifestsIn(folder: string): Promise<Map<string, Manifest>> {
  const manifests = new Map<string, Manifest>();
  for (const entry of await readdir(repoPath(folder), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = `${folder}/${entry.name}/package.json`;
    // A folder without one is no package: what git left of a moved package (its ignored
    // node_modules) in a checkout that was pulled across the move.
    const text = await readFile(repoPath(path), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text !== undefined) manifests.set(path, JSON.parse(text) as Manifest);
  }
  return manifests;
}

/** Every package.json of the workspace, the root's included, by path. */
async function allManifests(): Promise<Map<string, Manifest>> {
  const root = JSON.parse(await readFile(repoPath('package.json'), 'utf8')) as Manifest;
  return new Map([
    ['package.json', root],
    ...(await manifestsIn('apps')),
    ...(await manifestsIn('packages')),
    ...(await manifestsIn('tooling')),
  ]);
}

/** Every dependency a package.json names, with the version (or protocol) it asks for. */
const dependenciesOf = (manifest: Manifest) =>
  Object.entries({
    ...manifest.dependencies,
    ...manifest.optionalDependencies,
    ...manifest.peerDependencies,
    ...manifest.devDependencies,
  });

/** What a package needs when it runs: everything but its devDependencies. */
const runtimeDependencies = (manifest: Manifest) => [
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.optionalDependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
];

describe('the workspace', () => {
  it('keeps tooling (the GitHub stand-in, the local stack, the bundler, test helpers) out of what the product runs', async () => {
    const tooling = new Set([...(await manifestsIn('tooling')).values()].map((manifest) => manifest.name));
    expect(tooling).toContain('@evalbot/github-sim');
    expect(tooling).toContain('@evalbot/test-utils');
    const product = new Map([...(await manifestsIn('apps')), ...(await manifestsIn('packages'))]);
    expect(product.has('apps/cli/package.json')).toBe(true);
    const offending: string[] = [];
    for (const [path, manifest] of product) {
      for (const name of runtimeDependencies(manifest)) {
        if (tooling.has(name)) offending.push(`${path} names ${name} outside devDependencies`);
      }
    }
    expect(offending, 'move each to devDependencies, or the code it needs into the product').toEqual([]);
  });

  it('names each shared dependency once, in the pnpm catalog, and every package.json through catalog:', async () => {
    const workspace = parse(await readFile(repoPath('pnpm-workspace.yaml'), 'utf8')) as {
      catalog?: Record<string, string>;
    };
    const catalog = workspace.catalog ?? {};
    expect(Object.keys(catalog)).toEqual(
      expect.arrayContaining(['fastify', 'zod', 'ioredis', 'bullmq', 'tsx']),
    );
    const users = new Map<string, string[]>();
    const pinned: string[] = [];
    for (const [path, manifest] of await allManifests()) {
      for (const [name, version] of dependenciesOf(manifest)) {
        if (version.startsWith('workspace:')) continue;
        users.set(name, [...(users.get(name) ?? []), path]);
        if (name in catalog && version !== 'catalog:')
          pinned.push(
            `${path}: ${name} "${version}" should be "catalog:" (the catalog has ${catalog[name]})`,
          );
        if (version.startsWith('catalog:') && !(name in catalog))
          pinned.push(`${path}: ${name} is "${version}" but pnpm-workspace.yaml's catalog has no ${name}`);
      }
    }
    const uncatalogued = [...users]
      .filter(([name, paths]) => paths.length > 1 && !(name in catalog))
      .map(([name, paths]) => `${name} (${paths.join(', ')}): add it to pnpm-workspace.yaml's catalog`);
    expect(pinned).toEqual([]);
    expect(uncatalogued).toEqual([]);
  });
});
