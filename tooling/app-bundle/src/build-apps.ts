import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The apps that are deployed as processes (the CLI runs from source). */
export const DEPLOYED_APPS = ['gateway', 'worker', 'dashboard'] as const;
export type DeployedApp = (typeof DEPLOYED_APPS)[number];

/**
 * Packages left out of a bundle, loaded from the app's `node_modules` at run time. Bull Board
 * serves its UI from files inside its own package, found relative to its code.
 */
const EXTERNAL: Record<DeployedApp, string[]> = {
  gateway: [],
  worker: [],
  dashboard: ['@bull-board/*'],
};

/**
 * Node flags each bundle runs with, here and in the Dockerfile's CMD. The gateway parses a
 * ~25 KB payload per delivery, nearly all of it garbage at once: an 8 MiB semi-space (V8's
 * default is up to 16 MiB; it was 2 MiB) scavenges ~2.5× less often than 2 MiB — ~1 per 40
 * enqueued deliveries instead of 1 per 15, and about half the scavenge time at 1,000/s — and its
 * peak RSS under the ingestion load stayed the same (fewer survivors are promoted to the old
 * generation); the full 16 MiB kept RSS ~40 MiB higher.
 */
export const NODE_FLAGS: Record<DeployedApp, string[]> = {
  gateway: ['--max-semi-space-size=8'],
  worker: [],
  dashboard: [],
};

/**
 * The Node major version the images run (the Dockerfile's `NODE_IMAGE`): the current LTS.
 * Node 20 reached its end of life in April 2026.
 */
export const IMAGE_NODE_MAJOR = 24;

/**
 * The oldest Node the bundles must run on: development and CI here still run Node 20 (the
 * `engines` of package.json), and the local stack and benchmarks run the bundles under it.
 * Newer Nodes run what an older target emits, so the images' Node runs them too.
 */
export const BUNDLE_TARGET = 'node20';

/** The repository root (this file is tooling/app-bundle/src/…). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where `buildApps` writes an app's bundle: `apps/<app>/dist/main.js`. */
export function bundlePath(app: DeployedApp): string {
  return join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
}

export interface BuiltApp {
  app: DeployedApp;
  file: string;
  bytes: number;
}

/**
 * Bundle each app's `src/main.ts`, with the workspace packages and npm dependencies it imports,
 * into one minified ES module, `apps/<app>/dist/main.js` (+ a source map beside it; run with
 * `node --enable-source-maps` to see TypeScript lines in stack traces). Production runs these:
 * no TypeScript loader in the process, and only the code the app reaches. Each file is written
 * beside its place and renamed into it, so a process starting from a bundle while another
 * build runs (two test files at once) reads a whole one.
 */
export async function buildApps(apps: readonly DeployedApp[] = DEPLOYED_APPS): Promise<BuiltApp[]> {
  const built: BuiltApp[] = [];
  for (const app of apps) {
    const outfile = bundlePath(app);
    const result = await build({
      entryPoints: [join(REPO_ROOT, 'apps', app, 'src', 'main.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: BUNDLE_TARGET,
      format: 'esm',
      minify: true,
      sourcemap: 'linked',
      legalComments: 'none',
      external: EXTERNAL[app],
      write: false,
      logLevel: 'silent',
      // Some dependencies are CommonJS and call require() for Node's built-ins.
      banner: {
        js: "import { createRequire as __evalbotRequire } from 'node:module';const require=__evalbotRequire(import.meta.url);",
      },
    });
    await mkdir(dirname(outfile), { recursive: true });
    for (const file of result.outputFiles) {
      const partial = `${file.path}.${process.pid}.partial`;
      await writeFile(partial, file.contents);
      await rename(partial, file.path);
    }
    const main = result.outputFiles.find((file) => file.path === outfile);
    built.push({ app, file: outfile, bytes: main?.contents.length ?? 0 });
  }
  return built;
}
