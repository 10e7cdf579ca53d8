import { dirname, join, normalize } from 'node:path';
import { readFileInside, UnsafeFileError } from './read-file-inside.ts';
import { requirementLines } from './venv-cache.ts';

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_DEPTH = 5;
const MAX_LINES = 2000;

/**
 * What the worker does with a requirements file. PR code never gets the network, so the
 * trusted worker downloads the named packages as wheels (which runs no package code) and the
 * sandbox installs them offline. The worker's pip never reads a file of the PR: it gets
 * validated specifiers as arguments.
 */
export interface RequirementsPlan {
  /** PEP 508 specifiers (a name, extras, versions, a marker): nothing else reaches the worker's pip. */
  download: string[];
  /** Constraint specifiers (`-c` files, inlined), the same shape. */
  constraints: string[];
  /** `--pre` was given: pre-releases may be chosen. */
  pre: boolean;
  /** Local projects (`-e .`, `./pkg`, `file:`, `-f ./wheels`): built from the checkout, offline, per job. */
  local: boolean;
}

/** A requirements file evalbot will not install, with a message that says what to change. */
export type PlanResult = { ok: true; plan: RequirementsPlan } | { ok: false; message: string };

// Spaces and tabs only, never `\s`: JavaScript's `\s` takes form feeds, vertical tabs and
// Unicode line separators, which pip (Python's `splitlines`) reads as line breaks, so a line
// passed here as one specifier would reach the worker's pip as a specifier and an option.
const SP = '[ \\t]*';
const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const EXTRAS = String.raw`(?:${SP}\[${SP}(?:${NAME}(?:${SP},${SP}${NAME})*)?${SP}\])?`;
const VERSION = `(?:~=|===|==|!=|<=|>=|<|>)${SP}[A-Za-z0-9.*+!_-]+`;
const VERSIONS = String.raw`(?:${SP}\(?${SP}${VERSION}(?:${SP},${SP}${VERSION})*${SP}\)?)?`;
// Markers: names, quoted strings of ordinary characters, comparisons, and/or, parentheses.
const MARKER = String.raw`(?:${SP};${SP}[A-Za-z0-9_. \t'"<>=!~(),-]+)?`;
/**
 * What Python's `str.splitlines` (and so pip) breaks a line at besides `\n` and `\r\n`, and
 * every other control character: a file holding one is refused whole.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const HIDDEN_BREAK = /[\u0000-\u0008\u000b-\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]|\r(?!\n)/;
/** A PEP 508 requirement without a URL: exactly what a package index can serve. */
const SPECIFIER = new RegExp(`^${NAME}${EXTRAS}${VERSIONS}${MARKER}$`);

/**
 * Read `file` (relative to `checkout`) and what its `-r` and `-c` lines include (within the
 * checkout, no symlinks), and sort its lines into specifiers the worker downloads, or local
 * projects the sandbox builds. Everything else is refused with a message: pip options (they
 * could choose an index, a file to read, or allow source builds — which run code — on the
 * worker), direct URLs, environment variables (`${…}`, which pip would expand with the
 * worker's values).
 */
export async function planRequirements(checkout: string, file: string): Promise<PlanResult> {
  const plan: RequirementsPlan = { download: [], constraints: [], pre: false, local: false };
  const refusal = await addFile(checkout, file, plan, 'requirements', 0);
  return refusal ? { ok: false, message: refusal } : { ok: true, plan };
}

async function addFile(
  checkout: string,
  file: string,
  plan: RequirementsPlan,
  as: 'requirements' | 'constraints',
  depth: number,
): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFileInside(checkout, file, MAX_FILE_BYTES);
  } catch (error) {
    if (!(error instanceof UnsafeFileError)) throw error;
    return `the requirements file \`${file}\` ${error.message}`;
  }
  const hidden = HIDDEN_BREAK.exec(text);
  if (hidden) {
    const code = `U+${(hidden[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    return `the requirements file \`${file}\` holds the control character ${code} (line ${text.slice(0, hidden.index).split('\n').length}), which pip would read as a line break; remove it`;
  }
  for (const line of requirementLines(text)) {
    if (plan.download.length + plan.constraints.length > MAX_LINES) {
      return `the requirements name more than ${MAX_LINES} packages`;
    }
    const where = `\`${file}\`: \`${line.slice(0, 200)}\``;
    if (line.includes('$')) {
      return `${where}: environment variables are not expanded; write the value itself`;
    }
    const nested = /^(-r|--requirement|-c|--constraint)(?:[ \t]+|=)([^\s=]+)$/.exec(line);
    if (nested?.[1] && nested[2]) {
      if (depth >= MAX_DEPTH) return `${where} nests requirement files more than ${MAX_DEPTH} deep`;
      if (/^[a-z][a-z0-9+.-]*:/i.test(nested[2])) return `${where}: include files of the repository only`;
      const target = normalize(join(dirname(file), nested[2]));
      const kind = nested[1] === '-c' || nested[1] === '--constraint' ? 'constraints' : as;
      const refused = await addFile(checkout, target, plan, kind, depth + 1);
      if (refused) return refused;
      continue;
    }
    if (line === '--pre') {
      plan.pre = true;
      continue;
    }
    if (isLocalProject(line)) {
      plan.local = true;
      continue;
    }
    if (SPECIFIER.test(line)) {
      (as === 'constraints' ? plan.constraints : plan.download).push(line);
      continue;
    }
    if (line.startsWith('-')) {
      return `${where}: evalbot reads requirement specifiers, \`-r\`/\`-c\` files of the repository, \`--pre\`, and local projects (\`-e .\`, \`./pkg\`, \`-f ./wheels\`); other pip options are not passed on (packages come from the indexes the operator configured, as wheels)`;
    }
    if (/:\/\/|@/.test(line)) {
      return `${where}: direct URL requirements are not fetched (the worker downloads only from its operator's package indexes); publish the package to that index, or commit its wheel and use \`-f ./wheels\``;
    }
    return `${where}: is not a requirement specifier (a package name, optional [extras], version constraints and a ; marker)`;
  }
  return undefined;
}

/** `-e .`, `./pkg`, `../x`, `file:…`, `-f ./wheels`: the repository's own code or files, built in the sandbox. */
function isLocalProject(line: string): boolean {
  const target = /^(?:-e|--editable|-f|--find-links)(?:\s+|=)(\S+)$/.exec(line)?.[1] ?? line;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target) && !target.startsWith('file://')) return false;
  return /^(\.{1,2}(\/|$)|file:)/.test(target) || /^[A-Za-z0-9._-]+\s*@\s*file:/.test(target);
}
