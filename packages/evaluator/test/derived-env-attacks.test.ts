import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { copyEnv } from '../src/derive-venv.ts';
import { chownTree, denyWritesByOthers } from '../src/file-tree.ts';
import { evaluateFiles, removedAfterEach, tempDir } from './helpers.ts';

// A published environment is a tree package code once wrote: a derived build runs the base's
// .pth files (an index package's) in its sandboxed `pip install`, with the new directory
// writable. The worker then works on that tree as root — copying, linking, rewriting the paths
// in its scripts — and must follow nothing planted there.

const remove = removedAfterEach();
const asRoot = process.getuid?.() === 0;

describe('the worker repointing an environment a job once wrote', () => {
  it('refuses a bin that is a symlink, and rewrites nothing it points to', async () => {
    const root = await tempDir('planted-bin');
    remove(root);
    const from = join(root, 'from');
    const outside = join(root, 'outside');
    await mkdir(from);
    await mkdir(outside);
    // Holds the old path, so a rewrite through the symlink would change it.
    await writeFile(join(outside, 'startup.sh'), `cd ${from}\n`);
    await writeFile(join(from, 'pyvenv.cfg'), `home = /usr/bin\ncommand = python3 -m venv ${from}\n`);
    await symlink(outside, join(from, 'bin'));
    await expect(copyEnv(from, join(root, 'to'))).rejects.toThrow(/bin is not a directory/);
    expect(await readFile(join(outside, 'startup.sh'), 'utf8')).toBe(`cd ${from}\n`);
  });
});

describe.runIf(asRoot)('a package whose .pth plants symlinks in a derived environment', () => {
  const dirs: string[] = [];
  const findLinks = process.env.PIP_FIND_LINKS;
  afterAll(async () => {
    if (findLinks === undefined) delete process.env.PIP_FIND_LINKS;
    else process.env.PIP_FIND_LINKS = findLinks;
    for (const dir of dirs) await execa('rm', ['-rf', dir]);
  });

  it('cannot make the worker write a file outside the cache as root', async () => {
    const root = await tempDir('planted-link');
    dirs.push(root);
    // Stands for /etc/cron.d/…, /root/.ssh/authorized_keys, the App's key.
    const secretDir = join(root, 'root-only');
    await mkdir(secretDir, { mode: 0o700 });
    const victim = join(secretDir, 'victim.conf');
    await writeFile(victim, 'ROOT-OWNED CONTENT\n', { mode: 0o600 });

    // The .pth runs at every interpreter start of an environment holding it: in a derived
    // build, as the job, inside the build directory. It writes a script holding the build's
    // path (so the worker rewrites it) and a symlink under the temporary name the worker used
    // to give the rewritten file (`<name>.evalbot-<worker pid>`, the pid read from the build
    // directory's name), pointing at the victim.
    const hook = `import os, re, sys
m = re.search(r"/venvs/py[0-9.]+-[0-9a-f]{16}@(\\d+)-[0-9a-f]+$", sys.prefix)
if m and os.path.isdir(os.path.join(sys.prefix, "bin")):
    b = os.path.join(sys.prefix, "bin")
    try:
        with open(os.path.join(b, "zz-payload"), "w") as f:
            f.write("PWNED: written by the worker as root\\n# " + sys.prefix + "\\n")
        os.symlink(${JSON.stringify(victim)}, os.path.join(b, "zz-payload.evalbot-" + m.group(1)))
    except OSError:
        pass
`;
    // An index anyone can publish to: the attacker's package and two ordinary ones.
    const index = join(root, 'index');
    await mkdir(index);
    await execa('python3', [
      '-c',
      `import pathlib, sys, zipfile
root = pathlib.Path(sys.argv[1])
def wheel(name, files):
    whl = f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n"
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    files[f"{info}/RECORD"] = "".join(f"{p},,\\n" for p in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(root / whl, "w") as z:
        for p, c in files.items(): z.writestr(p, c)
wheel("evilpth", {"evilpth.pth": "import evilpth_hook\\n", "evilpth_hook.py": sys.argv[2]})
wheel("padone", {"padone.py": "x = 1\\n"})
wheel("padtwo", {"padtwo.py": "x = 2\\n"})
`,
      index,
      hook,
    ]);
    await execa('chmod', ['-R', 'a+rX', index]);
    process.env.PIP_FIND_LINKS = `${index} ${findLinks ?? ''}`.trim();
    const cacheDir = await tempDir('planted-link-cache');
    dirs.push(cacheDir);
    const evaluate = (requirements: string) =>
      evaluateFiles(
        {
          'requirements.txt': requirements,
          'demo.py': 'import json, evilpth_hook\njson.dump({"ok": 1}, open("result.txt", "w"))\n',
        },
        { cacheDir, workerEnv: process.env, maxTimeoutMs: 300_000 },
        remove,
      );
    // Built from nothing (wheels only: no package code runs), then derived twice: the second
    // derivation repoints the environment the .pth planted its symlink in.
    expect(await evaluate('evilpth==1.0\n')).toMatchObject({ ok: true });
    expect(await evaluate('evilpth==1.0\npadone==1.0\n')).toMatchObject({
      ok: true,
      environmentDerivedFrom: expect.any(String),
    });
    expect(await evaluate('evilpth==1.0\npadone==1.0\npadtwo==1.0\n')).toMatchObject({
      ok: true,
      environmentDerivedFrom: expect.any(String),
    });
    expect(await readFile(victim, 'utf8')).toBe('ROOT-OWNED CONTENT\n');
    expect((await stat(victim)).mode & 0o777).toBe(0o600);
  }, 400_000);
});

describe.runIf(asRoot)('handing a derived environment back to the worker', () => {
  it("changes only what is not the worker's yet: a shared inode keeps its mode bits", async () => {
    const root = await tempDir('hand-back');
    remove(root);
    // A file the derived environment shares with its base (already the worker's): a chown,
    // even to the same owner, would clear its setuid bit on the base too.
    const shared = join(root, 'shared-tool');
    await writeFile(shared, '#!/bin/sh\n');
    await chmod(shared, 0o4755);
    const jobs = join(root, 'jobs-file');
    await writeFile(jobs, 'x\n');
    await execa('chown', ['12345:12345', jobs]);
    await chmod(jobs, 0o666);
    await chownTree(root, { uid: 0, gid: 0 });
    await denyWritesByOthers(root);
    expect((await stat(shared)).mode & 0o7777).toBe(0o4755);
    expect(await stat(jobs)).toMatchObject({ uid: 0, gid: 0 });
    expect((await stat(jobs)).mode & 0o777).toBe(0o644);
  });
});
