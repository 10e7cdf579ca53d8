import { readFile, writeFile } from 'node:fs/promises';
import { BENCHMARK_IDS, type SectionResult, type TargetResult, table } from './section.ts';

const TITLE = '# Benchmarks';
const INTRO = [
  'Written by `pnpm bench` (`bench/run.ts`): `pnpm bench` runs every benchmark (about 21 minutes on 2 cores),',
  '`pnpm bench ingestion|e2e|scale|memory|sandbox` one or some of them (only their sections are replaced),',
  '`BENCH_QUICK=1 pnpm bench` shorter runs for a check that everything works. Everything runs on',
  'this machine and talks only to 127.0.0.1 (and, for the scale part across hosts, to network namespaces',
  'it creates on a bridge of its own); GitHub is the stand-in (`@evalbot/github-sim`).',
  'Text outside the `<!-- bench:… -->` blocks is kept when the file is rewritten.',
].join('\n');

function block(id: string, body: string): string {
  return `<!-- bench:${id} -->\n${body.trim()}\n<!-- /bench:${id} -->`;
}

function blockPattern(id: string): RegExp {
  return new RegExp(`<!-- bench:${id} -->[\\s\\S]*?<!-- /bench:${id} -->`);
}

/** A section as stored: its heading, when and how it was measured, its Markdown, and its targets (machine-readable, for the summary). */
function renderSection(section: SectionResult, header: string): string {
  return block(
    section.id,
    [
      `## ${section.title}`,
      '',
      `_${header}_`,
      '',
      section.markdown,
      '',
      `<!-- targets ${JSON.stringify(section.targets)} -->`,
    ].join('\n'),
  );
}

function storedTargets(text: string, id: string): TargetResult[] {
  const stored = blockPattern(id).exec(text)?.[0];
  const json = stored ? /<!-- targets (.*) -->/.exec(stored)?.[1] : undefined;
  try {
    return json ? (JSON.parse(json) as TargetResult[]) : [];
  } catch {
    return [];
  }
}

/** The rows of the stored machine table: facts a partial run did not learn again are kept. */
function storedMachine(text: string): Record<string, string> {
  const stored = blockPattern('machine').exec(text)?.[0] ?? '';
  const rows: Record<string, string> = {};
  for (const match of stored.matchAll(/^\| (.+?) \| (.+?) \|$/gm)) {
    const [, key, value] = match;
    if (key && value && key.trim() !== '' && !/^-+$/.test(key.trim())) rows[key.trim()] = value.trim();
  }
  return rows;
}

function replaceOrAppend(text: string, id: string, rendered: string): string {
  const pattern = blockPattern(id);
  return pattern.test(text) ? text.replace(pattern, () => rendered) : `${text.trimEnd()}\n\n${rendered}\n`;
}

/**
 * Write the machine, the sections measured now (each replacing its earlier version) and a
 * summary of every section's targets to `path`, keeping everything else in the file.
 */
export async function updateBenchmarksFile(
  path: string,
  machine: Record<string, string>,
  sections: { section: SectionResult; header: string }[],
): Promise<void> {
  let text = await readFile(path, 'utf8').catch(() => `${TITLE}\n\n${INTRO}\n`);
  text = replaceOrAppend(
    text,
    'machine',
    block(
      'machine',
      `## Machine\n\n${table(['', ''], Object.entries({ ...storedMachine(text), ...machine }))}`,
    ),
  );
  for (const { section, header } of sections) {
    text = replaceOrAppend(text, section.id, renderSection(section, header));
  }
  const summaryRows = BENCHMARK_IDS.flatMap((id) =>
    storedTargets(text, id).map((t) => [id, t.name, t.measured, t.target, t.met ? 'met' : '**missed**']),
  );
  const summary = block(
    'summary',
    `## Targets\n\n${table(['benchmark', 'target', 'measured', 'wanted', ''], summaryRows)}`,
  );
  // The summary sits right after the machine block.
  if (blockPattern('summary').test(text)) text = text.replace(blockPattern('summary'), () => summary);
  else text = text.replace(blockPattern('machine'), (machineBlock) => `${machineBlock}\n\n${summary}`);
  await writeFile(path, `${text.trimEnd()}\n`);
}
