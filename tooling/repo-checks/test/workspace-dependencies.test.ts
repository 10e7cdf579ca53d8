import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
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
    manifests.set(path, JSON.parse(await readFile(repoPath(path), 'utf8')) as Manifest);
  }
  return manifests;
}

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
});
