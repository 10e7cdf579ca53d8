import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planRequirements } from '../src/plan-requirements.ts';
import { removedAfterEach, tempDir } from './helpers.ts';

const remove = removedAfterEach();

async function plan(files: Record<string, string>) {
  const checkout = await tempDir('plan');
  remove(checkout);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(checkout, path)), { recursive: true });
    await writeFile(join(checkout, path), text);
  }
  return planRequirements(checkout, 'requirements.txt');
}

describe('the requirements the worker downloads', () => {
  it('keeps specifiers with extras, versions and markers, and inlines -r and -c files of the repository', async () => {
    const result = await plan({
      'requirements.txt':
        'numpy>=1.26,<3\nkeras[backend] == 3.15.1 ; python_version >= "3.10"\n--pre\n-r more/base.txt\n-c pins.txt\n',
      'more/base.txt': 'six\n',
      'pins.txt': 'six==1.16.0\n',
    });
    expect(result).toEqual({
      ok: true,
      plan: {
        download: ['numpy>=1.26,<3', 'keras[backend] == 3.15.1 ; python_version >= "3.10"', 'six'],
        constraints: ['six==1.16.0'],
        pre: true,
        local: false,
      },
    });
  });

  it('refuses a line that pip would split into a specifier and an option (form feed, vertical tab, Unicode line breaks)', async () => {
    // JavaScript's \s matches these; Python's splitlines, and so pip, breaks lines at them: the
    // text after one would reach the worker's pip as an option (`--no-binary` builds a source
    // package, running its code, on the worker).
    for (const [name, hidden] of [
      ['U+000C', '\f'],
      ['U+000B', '\v'],
      ['U+001C', '\x1c'],
      ['U+0085', '\x85'],
      ['U+2028', '\u2028'],
      ['U+2029', '\u2029'],
      ['U+000D', '\r'],
    ]) {
      const attack = `evilpkg ; os_name == "posix" ${hidden}--no-binary evilpkg`;
      const cases: Record<string, string>[] = [
        { 'requirements.txt': `six\n${attack}\n` },
        { 'requirements.txt': 'evilpkg\n-c c.txt\n', 'c.txt': `${attack}\n` },
      ];
      for (const files of cases) {
        const result = await plan(files);
        expect(result, `${name} in ${Object.keys(files).join(', ')}`).toMatchObject({
          ok: false,
          message: expect.stringContaining(`holds the control character ${name}`),
        });
      }
    }
    // Tabs and Windows line ends are ordinary.
    expect(await plan({ 'requirements.txt': 'six\t; os_name == "posix"\r\nnumpy\r\n' })).toMatchObject({
      ok: true,
      plan: { download: ['six\t; os_name == "posix"', 'numpy'] },
    });
  });

  it('sends local projects to the sandbox and never to the worker', async () => {
    for (const line of ['-e .', './pkg', '-f ./wheels', 'mypkg @ file:./pkg']) {
      const result = await plan({ 'requirements.txt': `six\n${line}\n` });
      expect(result, line).toEqual({
        ok: true,
        plan: { download: ['six'], constraints: [], pre: false, local: true },
      });
    }
  });

  // Each of these once reached the worker's own pip (root, with the network): an index of the
  // PR's choosing, a source build run as root, a file of the worker read into the message.
  it.each([
    ['-ihttp://127.0.0.1:8765/simple', /other pip options are not passed on/],
    ['--index=http://127.0.0.1:8765/simple', /other pip options are not passed on/],
    ['--index-url http://127.0.0.1:8765/simple', /other pip options are not passed on/],
    ['--extra-index-url=http://127.0.0.1:8765/simple', /other pip options are not passed on/],
    ['--find-l=http://127.0.0.1:8765/', /other pip options are not passed on/],
    ['-f../checkout/sdist', /other pip options are not passed on/],
    ['--no-binary=evilpkg', /other pip options are not passed on/],
    ['--trusted-host 127.0.0.1', /other pip options are not passed on/],
    ['--requireme=/root/secret', /other pip options are not passed on/],
    ['-r /root/secret x', /other pip options are not passed on/],
    ['--requirement=http://127.0.0.1:8765/internal.txt', /include files of the repository only/],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: pip would expand it; evalbot must not let it
    ['${PIP_INDEX_URL}x', /environment variables are not expanded/],
    ['evil @ https://127.0.0.1:8765/evil.whl', /direct URL requirements are not fetched/],
    ['git+https://127.0.0.1/evil.git', /direct URL requirements are not fetched/],
    ['six --hash=sha256:abc', /other pip options|is not a requirement specifier/],
  ])('refuses %s with a message that says what to change', async (line, message) => {
    const result = await plan({ 'requirements.txt': `six\n${line}\n` });
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(message) });
    if (!result.ok) expect(result.message).toContain('`requirements.txt`');
  });

  it('refuses an include that leaves the repository or is a symlink', async () => {
    expect(await plan({ 'requirements.txt': '-r ../../etc/passwd\n' })).toMatchObject({
      ok: false,
      message: expect.stringContaining('is outside the directory'),
    });
  });
});
