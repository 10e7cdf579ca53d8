import { randomInt } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { processesWithCmdline, rootSkipReason, titleSkippedIf } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/index.ts';
import { findCgroupHierarchy } from '../src/sandbox/step-cgroup.ts';
import {
  type EvaluateFilesOptions,
  evaluateFiles,
  fileCacheDir,
  type RepoFile,
  removedAfterEach,
  tempDir,
} from './helpers.ts';

// Hostile repositories against the sandbox: each test is an attack that worked before the
// sandbox (issue 12), and asserts what the attacker gets now. Each would fail without the
// bubblewrap setting its comment names.

const remove = removedAfterEach();
const cache = fileCacheDir();
const noRoot = rootSkipReason();
const asRoot = noRoot === undefined;
// Memory and deleted-file accounting need a cgroup of the step (root, writable /sys/fs/cgroup).
const noCgroups =
  noRoot ??
  ((await findCgroupHierarchy()) === undefined
    ? 'no writable cgroup hierarchy in /sys/fs/cgroup'
    : undefined);
const MiB = 1024 * 1024;
const DISK_LIMIT_STOPPED =
  '`python3 demo.py` was stopped: it wrote more than the 64 MiB the job directory may hold (EVALBOT_SANDBOX_DISK_MB)';

let tight: Sandbox;
let redisLike: Server;
let redisPort = 0;
let redisHits = 0;

beforeAll(async () => {
  // Small limits, so that each limit is reached in a second or two.
  tight = await createSandbox({
    limits: {
      memoryBytes: 256 * MiB,
      processes: 64,
      fileSizeBytes: 32 * MiB,
      diskBytes: 64 * MiB,
      tmpBytes: 16 * MiB,
    },
  });
  // Something on loopback that answers like Redis, as the worker's Redis would.
  redisLike = createServer((socket) => {
    redisHits += 1;
    socket.end('+PONG\r\n');
  });
  await new Promise<void>((resolve) => redisLike.listen(0, '127.0.0.1', resolve));
  redisPort = (redisLike.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => redisLike.close(resolve));
});

function evaluate(files: Record<string, RepoFile>, extra: Partial<EvaluateFilesOptions> = {}) {
  return evaluateFiles(
    files,
    { cacheDir: cache.path, maxTimeoutMs: 120_000, killGraceMs: 200, ...extra },
    remove,
  );
}

/** A run that writes `metrics` computed by `body` (Python, setting a dict `m`). */
function demo(body: string): Record<string, RepoFile> {
  return {
    'requirements.txt': '',
    'demo.py': `import json, os, socket, subprocess, sys, time\nm = {}\n${body}\njson.dump(m, open("result.txt", "w"))\n`,
  };
}

describe('the sandbox against hostile repositories', () => {
  it('reaches nothing on the network: a scan of every loopback port and the compose host names finds nothing (--unshare-net)', async () => {
    const result = await evaluate(
      demo(`
open_ports = []
for port in range(1, 65536):
    s = socket.socket()
    s.settimeout(0.2)
    # A connection to itself (source port = destination port) is TCP's simultaneous open, not a server.
    if s.connect_ex(("127.0.0.1", port)) == 0 and s.getsockname()[1] != port:
        open_ports.append(port)
    s.close()
resolved = 0
for host in ["redis", "gateway", "dashboard", "169.254.169.254", "example.com"]:
    try:
        s = socket.create_connection((host, 6379 if host == "redis" else 80), timeout=1)
        resolved += 1
    except OSError:
        pass
m["open_ports"] = len(open_ports)
m["reached_hosts"] = resolved
m["redis_port_open"] = int(${redisPort} in open_ports)
`),
    );
    expect(result).toMatchObject({
      ok: true,
      runs: [{ metrics: { open_ports: 0, reached_hosts: 0, redis_port_open: 0 } }],
    });
    expect(redisHits).toBe(0);
  }, 120_000);

  it('leaves nothing running after the job: a setsid, double-forked daemon with a new environment is gone (--unshare-pid)', async () => {
    const marker = `daemon-${randomInt(1e9)}`;
    const workRoot = await tempDir('daemon-work');
    remove(workRoot);
    const victimFile = join(workRoot, 'written-by-daemon');
    const attacker = await evaluate(
      demo(`
# Double fork, a new session, and an environment of its own (the old sweep looked for HOME).
# It spares its own checkout ($1): its target is the next job's.
subprocess.Popen(["setsid", "env", "-i", "sh", "-c",
    "(while true; do touch ${marker}.alive; echo x > ${victimFile} 2>/dev/null; for d in ${workRoot}/evalbot-*/checkout; do [ \\"$d\\" = \\"$1\\" ] && continue; echo '{\\"accuracy\\": 0.123}' > $d/result.txt 2>/dev/null; done; sleep 0.05; done) & exec sleep 0 # ${marker}", "sh", os.getcwd()],
    start_new_session=True)
# Until the daemon has run (it marks each round in the checkout): the test proves it was there.
for _ in range(200):
    if os.path.exists("${marker}.alive"):
        break
    time.sleep(0.05)
m["started"] = int(os.path.exists("${marker}.alive"))
`),
      { workRoot },
    );
    expect(attacker).toMatchObject({ ok: true, runs: [{ metrics: { started: 1 } }] });
    // Gone as soon as the job returned: nothing to wait for.
    expect(await processesWithCmdline(marker)).toEqual([]);
    expect(await processesWithCmdline(victimFile)).toEqual([]);
    const victim = await evaluate(demo('time.sleep(1)\nm["accuracy"] = 0.9'), { workRoot });
    expect(victim).toMatchObject({ ok: true, runs: [{ metrics: { accuracy: 0.9 } }] });
    await expect(readFile(victimFile)).rejects.toThrow(/ENOENT/);
  }, 120_000);

  it("cannot plant a .pth where another repository's evaluation would run it (read-only system and environments)", async () => {
    const planter = await evaluate({
      'requirements.txt': 'six\n',
      'demo.py': `import json, os, site, sys, sysconfig
targets = {sys.prefix, sys.base_prefix, *site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("stdlib"), site.getusersitepackages()}
targets |= {p for p in sys.path if p and os.path.isdir(p)}
planted = []
for d in targets:
    try:
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, "zz_evalbot_planted.pth"), "w").write("import os; os.environ['EVALBOT_PLANTED'] = '1'\\n")
        planted.append(d)
    except OSError:
        pass
print("PLANTED", planted)
json.dump({"ok": 1}, open("result.txt", "w"))
`,
    });
    expect(planter).toMatchObject({ ok: true });
    const victim = await evaluate({
      'requirements.txt': 'six\n',
      'demo.py': `import json, os\njson.dump({"planted": int(os.environ.get("EVALBOT_PLANTED") == "1")}, open("result.txt", "w"))\n`,
    });
    expect(victim).toMatchObject({ ok: true, environmentReused: true, runs: [{ metrics: { planted: 0 } }] });
  }, 180_000);

  it('neither deletes nor reads anything outside the job when a step swaps the checkout for a symlink', async () => {
    const outside = await tempDir('outside');
    remove(outside);
    const secret = join(outside, 'result.txt');
    await writeFile(secret, '{"stolen": 42}\n', { mode: 0o600 });
    await chmod(outside, 0o755);
    const result = await evaluate({
      'requirements.txt': '',
      '.evalbot.yml': `setup: "cd .. && mv checkout moved; ln -s ${outside} checkout; ls -la .. || true"\nrun: python3 demo.py\n`,
      'demo.py': 'open("result.txt", "w").write(\'{"own": 1}\')\n',
    });
    // The job directory's root is not the job's to change: the swap fails, the run is its own.
    expect(result).toMatchObject({ ok: true, runs: [{ metrics: { own: 1 } }] });
    expect(await readFile(secret, 'utf8')).toBe('{"stolen": 42}\n');
  }, 120_000);

  it('sees no process of the host (/proc/1 is its own init), no other job\u2019s directory, and of /etc only what programs need', async () => {
    // Where an operator might keep an index credential, world-readable (root may write /etc).
    const etcSecret = `/etc/evalbot-test-${randomInt(1e9)}.conf`;
    if (asRoot) {
      await writeFile(etcSecret, 'index-url = https://user:planted-token@example.invalid/simple\n', {
        mode: 0o644,
      });
    }
    const workRoot = await tempDir('neighbour-work');
    remove(workRoot);
    const neighbour = join(workRoot, 'evalbot-1-neighbour', 'checkout');
    await mkdir(neighbour, { recursive: true });
    await writeFile(join(neighbour, 'private.txt'), 'neighbour data');
    try {
      const result = await evaluate(
        demo(`
pids = [p for p in os.listdir("/proc") if p.isdigit()]
m["init_is_bwrap"] = int(b"bwrap" in open("/proc/1/cmdline", "rb").read())
m["etc_secret_visible"] = int(os.path.exists(${JSON.stringify(etcSecret)}))
m["etc_passwd_visible"] = int(os.path.exists("/etc/passwd"))
m["processes_seen"] = len(pids)
m["neighbour_visible"] = int(os.path.exists(${JSON.stringify(join(neighbour, 'private.txt'))}))
try:
    m["work_root_entries"] = len(os.listdir(${JSON.stringify(workRoot)}))
except OSError:
    m["work_root_entries"] = -1
`),
        { workRoot },
      );
      expect(result).toMatchObject({
        ok: true,
        runs: [{ metrics: { init_is_bwrap: 1, neighbour_visible: 0, etc_passwd_visible: 1 } }],
      });
      if (asRoot) expect(result).toMatchObject({ runs: [{ metrics: { etc_secret_visible: 0 } }] });
      const metrics = result.ok ? result.runs[0]?.metrics : {};
      // Its own pid namespace: bubblewrap's init, the shell and Python, nothing of the host.
      expect(metrics?.processes_seen).toBeLessThanOrEqual(4);
      // Only the job's own directory is under the work root, as bubblewrap laid it out.
      expect(metrics?.work_root_entries).toBe(1);
    } finally {
      await rm(etcSecret, { force: true });
    }
  }, 120_000);

  it.skipIf(noRoot !== undefined)(
    titleSkippedIf(
      'gives two jobs running at once two uids of their own, neither root nor the worker (--uid)',
      noRoot,
    ),
    async () => {
      const body =
        'm["uid"] = os.getuid()\nm["gid"] = os.getgid()\nm["groups"] = len(os.getgroups())\ntime.sleep(1)';
      const [a, b] = await Promise.all([evaluate(demo(body)), evaluate(demo(body))]);
      const uidOf = (r: typeof a) => (r.ok ? r.runs[0]?.metrics.uid : undefined);
      expect(a).toMatchObject({ ok: true, runs: [{ metrics: { groups: 0 } }] });
      expect(b).toMatchObject({ ok: true });
      expect(uidOf(a)).not.toBe(uidOf(b));
      for (const uid of [uidOf(a), uidOf(b)]) {
        expect(uid).toBeGreaterThan(0);
        expect(uid).not.toBe(process.getuid?.());
      }
    },
    120_000,
  );

  it.skipIf(noCgroups !== undefined)(
    titleSkippedIf('ends a fork bomb and says the process limit stopped it', noCgroups),
    async () => {
      const result = await evaluate(
        demo(`
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        children += 1
except OSError as error:
    print("fork failed after", children, error, flush=True)
    raise
`),
        { sandbox: tight },
      );
      expect(result).toMatchObject({
        ok: false,
        stage: 'run',
        message: expect.stringMatching(
          /^`python3 demo.py` was stopped: it reached the limit of 64 processes \(EVALBOT_SANDBOX_MAX_PROCESSES\)/,
        ),
      });
    },
    120_000,
  );

  it.skipIf(noCgroups !== undefined)(
    titleSkippedIf('ends a memory hog and says the memory limit stopped it', noCgroups),
    async () => {
      const result = await evaluate(demo('hog = bytearray(1024 * 1024 * 1024)\nm["survived"] = 1'), {
        sandbox: tight,
      });
      expect(result).toMatchObject({
        ok: false,
        stage: 'run',
        message: expect.stringMatching(
          /^`python3 demo.py` was stopped: it (ran out of memory: the sandbox allows 256 MiB \(EVALBOT_SANDBOX_MEMORY_MB\))/,
        ),
      });
    },
    120_000,
  );

  it('ends a disk filler and says the job directory limit stopped it', async () => {
    const result = await evaluate(
      demo(`
chunk = b"x" * (8 * 1024 * 1024)
for i in range(1000):
    with open(f"fill-{i}.bin", "wb") as f:
        f.write(chunk)
    time.sleep(0.02)
`),
      { sandbox: tight },
    );
    expect(result).toMatchObject({
      ok: false,
      stage: 'run',
      message: DISK_LIMIT_STOPPED,
    });
  }, 120_000);

  it('stops a file over the size limit and says so', async () => {
    const result = await evaluate(demo('open("big.bin", "wb").write(b"x" * (64 * 1024 * 1024))'), {
      sandbox: tight,
    });
    expect(result).toMatchObject({
      ok: false,
      stage: 'run',
      message: expect.stringMatching(
        /^`python3 demo.py` was stopped: it wrote a file over the 32 MiB limit \(EVALBOT_SANDBOX_MAX_FILE_MB\)/,
      ),
    });
  }, 120_000);

  it('gives /tmp and /dev/shm of its own, size-capped and gone after the step', async () => {
    const first = await evaluate(
      demo(`
open("/tmp/left-by-first", "w").write("x")
try:
    open("/dev/shm/fill", "wb").write(b"x" * (32 * 1024 * 1024))
    m["shm_over_cap"] = 1
except OSError:
    m["shm_over_cap"] = 0
`),
      { sandbox: tight },
    );
    expect(first).toMatchObject({ ok: true, runs: [{ metrics: { shm_over_cap: 0 } }] });
    const second = await evaluate(demo('m["sees_first"] = int(os.path.exists("/tmp/left-by-first"))'));
    expect(second).toMatchObject({ ok: true, runs: [{ metrics: { sees_first: 0 } }] });
  }, 120_000);
});

describe('the worker against what a step leaves behind', () => {
  it('does not read a file through a working directory a step swapped for a symlink', async () => {
    const outside = await tempDir('swap-target');
    remove(outside);
    await writeFile(join(outside, 'result.json'), '{"stolen": 0.123456}\n', { mode: 0o600 });
    await chmod(outside, 0o755);
    const result = await evaluate({
      'requirements.txt': '',
      'sub/demo.py': 'open("result.json", "w").write(\'{"own": 1}\')\n',
      '.evalbot.yml': `working_directory: sub\nmetrics_file: result.json\nrun: "python3 demo.py && cd .. && mv sub sub.real && ln -s ${outside} sub"\n`,
    });
    expect(result).toMatchObject({
      ok: false,
      stage: 'metrics',
      message: 'the metrics file `result.json` resolves outside the directory (through a symbolic link)',
    });
    expect(JSON.stringify(result)).not.toContain('0.123456');
  }, 120_000);

  it('does not delete a file through a working directory setup swapped for a symlink', async () => {
    const outside = await tempDir('swap-victim');
    remove(outside);
    const victim = join(outside, 'victim-file');
    await writeFile(victim, 'keep me');
    await chmod(outside, 0o755);
    const result = await evaluate({
      'requirements.txt': '',
      'sub/demo.py': 'open("victim-file", "w").write(\'{"own": 1}\')\n',
      '.evalbot.yml': `working_directory: sub\nmetrics_file: victim-file\nsetup: "cd .. && mv sub sub.real && ln -s ${outside} sub"\nrun: python3 demo.py\n`,
    });
    expect(result).toMatchObject({ ok: false });
    expect(await readFile(victim, 'utf8')).toBe('keep me');
  }, 120_000);

  it.skipIf(noCgroups !== undefined)(
    titleSkippedIf('counts files a step deleted but holds open against the disk limit', noCgroups),
    async () => {
      const result = await evaluate(
        demo(`
held = []
for i in range(20):
    f = open(f"hidden-{i}.bin", "wb")
    os.unlink(f"hidden-{i}.bin")
    f.write(b"x" * (8 * 1024 * 1024))
    f.flush()
    held.append(f)
    time.sleep(0.2)
`),
        { sandbox: tight },
      );
      expect(result).toMatchObject({
        ok: false,
        message: DISK_LIMIT_STOPPED,
      });
    },
    120_000,
  );

  it('stops a tree nested deeper than a path can name, and still removes the job directory', async () => {
    const result = await evaluate(
      demo(`
name = "d" * 200
for i in range(40):
    os.mkdir(name)
    os.chdir(name)
for i in range(100):
    open(f"f{i}.bin", "wb").write(b"x" * (1024 * 1024))
    time.sleep(0.05)
`),
      { sandbox: tight },
    );
    // evaluateFiles checks that the work root is empty afterwards.
    expect(result).toMatchObject({
      ok: false,
      message: DISK_LIMIT_STOPPED,
    });
  }, 120_000);
});

describe("evalbot's own steps against the repository's modules", () => {
  it("runs neither the checkout's venv.py (as the worker) nor its pip package (in a shared build)", async () => {
    const marker = `/tmp/evalbot-test-pwned-${randomInt(1e9)}`;
    // A requirement line of its own, so that this repository builds a shared environment.
    const requirements = `six>=1.0,!=0.0.${randomInt(1e9)}\n`;
    const attacker = await evaluate({
      'requirements.txt': requirements,
      'venv.py': `open(${JSON.stringify(`${marker}-venv`)}, "w").write("ran as the worker")\n`,
      'pip/__init__.py': '',
      'pip/__main__.py': `import os, site, sys
for d in site.getsitepackages():
    try:
        open(os.path.join(d, "zz_pwned.pth"), "w").write("import os; os.environ['EVALBOT_PWNED'] = '1'\\n")
    except OSError:
        pass
open(${JSON.stringify(`${marker}-pip`)}, "w").write("ran")
`,
      'demo.py':
        'import json, os\njson.dump({"pwned": int(os.environ.get("EVALBOT_PWNED") == "1")}, open("result.txt", "w"))\n',
    });
    expect(attacker).toMatchObject({ ok: true, environmentReused: false, runs: [{ metrics: { pwned: 0 } }] });
    const victim = await evaluate({
      'requirements.txt': requirements,
      'demo.py':
        'import json, os\njson.dump({"pwned": int(os.environ.get("EVALBOT_PWNED") == "1")}, open("result.txt", "w"))\n',
    });
    expect(victim).toMatchObject({ ok: true, environmentReused: true, runs: [{ metrics: { pwned: 0 } }] });
    await expect(readFile(`${marker}-venv`)).rejects.toThrow(/ENOENT/);
    await expect(readFile(`${marker}-pip`)).rejects.toThrow(/ENOENT/);
  }, 180_000);
});
