import { execFile } from 'node:child_process';
import { lstat, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readEnvRecord } from './env-cache-index.ts';
import type { RequirementsPlan } from './plan-requirements.ts';

const execFileAsync = promisify(execFile);
const PUBLISHED = /^py[0-9.]+-[0-9a-f]{16}$/;

/** The lines of a cache key (`prepare-python-env.ts`): `--pre`, requirements, `# constraints`, constraints. */
export function keyLinesOf(plan: RequirementsPlan): string[] {
  return [...(plan.pre ? ['--pre'] : []), ...plan.download, '# constraints', ...plan.constraints];
}

function split(lines: readonly string[]): { pre: boolean; download: string[]; constraints: string[] } {
  const marker = lines.indexOf('# constraints');
  const head = marker === -1 ? [...lines] : lines.slice(0, marker);
  return {
    pre: head.includes('--pre'),
    download: head.filter((l) => l !== '--pre'),
    constraints: marker === -1 ? [] : lines.slice(marker + 1),
  };
}

export interface ClosestEnv {
  key: string;
  /** The published environment's directory (its real path). */
  dir: string;
  /** Requirement lines the new environment has and it lacks: only these are downloaded. */
  missing: string[];
}

/**
 * The cached environment closest to `plan`, to derive a new one from: same interpreter, same
 * `--pre` and constraints, and requirement lines that are all lines of the new requirements,
 * word for word — the most of them wins. Not just the same projects: an environment built from
 * `tabulate==0.8.10` would satisfy a later `tabulate`, so one repository could choose the
 * versions every other repository's environment (published under the key a fresh build would
 * have) gets. With every line of theirs in ours, what it pins we pin too, and what it left free
 * was resolved fresh when it was built. Undefined when none qualifies.
 */
export async function findClosestEnv(
  venvsDir: string,
  python: { executable: string; version: string },
  plan: RequirementsPlan,
): Promise<ClosestEnv | undefined> {
  const wanted = new Set(plan.download);
  const constraints = JSON.stringify([...plan.constraints].sort());
  let best: (ClosestEnv & { common: number; usedAt: number }) | undefined;
  for (const name of await readdir(venvsDir).catch(() => [] as string[])) {
    if (!PUBLISHED.test(name)) continue;
    const record = await readEnvRecord(venvsDir, name);
    if (!record?.lines) continue;
    if (record.python.executable !== python.executable || record.python.version !== python.version) continue;
    const theirs = split(record.lines);
    if (theirs.pre !== plan.pre || JSON.stringify([...theirs.constraints].sort()) !== constraints) continue;
    if (!theirs.download.every((line) => wanted.has(line))) continue;
    const common = theirs.download.length;
    if (common === 0) continue;
    const dir = await readlink(join(venvsDir, name)).then(
      (target) => join(venvsDir, target),
      () => undefined,
    );
    if (!dir || !(await stat(join(dir, 'pyvenv.cfg')).catch(() => undefined))) continue;
    const usedAt = (await stat(join(venvsDir, `${name}.json`)).catch(() => undefined))?.mtimeMs ?? 0;
    if (best && (common < best.common || (common === best.common && usedAt <= best.usedAt))) continue;
    const have = new Set(theirs.download);
    best = { key: name, dir, missing: plan.download.filter((line) => !have.has(line)), common, usedAt };
  }
  if (!best) return undefined;
  const { key, dir, missing } = best;
  return { key, dir, missing };
}

/**
 * Copy the environment `from` to `to` (which must not exist) — as a reflink where the
 * filesystem can (a copy-on-write clone: instant, no space until written), else a plain copy —
 * and point its scripts and `pyvenv.cfg` at the new place (venvs hold absolute paths).
 *
 * Not hard links: the new environment is written by the sandboxed `pip install` as the job's
 * uid, and a hard-linked file is the same inode as the shared environment's, so a write into it
 * (or the `chown` that hands the copy to the job) would change the environment every other job
 * reads. A reflink or a copy shares nothing writable.
 */
export async function copyEnv(from: string, to: string): Promise<void> {
  await execFileAsync('cp', ['-a', '--reflink=auto', '--', from, to], { maxBuffer: 16 * 1024 * 1024 });
  const rewrite = async (path: string) => {
    const info = await lstat(path);
    if (!info.isFile() || info.size > 1024 * 1024) return;
    const text = await readFile(path, 'latin1');
    if (!text.includes(from)) return;
    await writeFile(path, text.split(from).join(to), 'latin1');
  };
  for (const name of await readdir(join(to, 'bin'))) await rewrite(join(to, 'bin', name));
  await rewrite(join(to, 'pyvenv.cfg'));
}
