import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseEnv } from 'node:util';
import { CliError } from '../cli-context.ts';

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** True when `value` opens a quote that does not close on the same line. */
function opensMultilineQuote(value: string): '"' | "'" | undefined {
  const quote = value[0];
  if (quote !== '"' && quote !== "'") return undefined;
  for (let i = 1; i < value.length; i++) {
    if (value[i] === '\\' && quote === '"') i++;
    else if (value[i] === quote) return undefined;
  }
  return quote;
}

/**
 * Write `value` so that compose, Node's `--env-file`, dotenv and `loadGitHubAppCredentials` all
 * read it back the same: plain when it is simple, single-quoted when it has spaces, and a PEM key
 * double-quoted on one line with `\n` for its line breaks.
 */
export function formatEnvValue(key: string, value: string): string {
  if (value.includes('\n')) {
    if (/["\\]/.test(value)) {
      throw new CliError(
        `${key} has line breaks and quotes or backslashes; no .env syntax holds that portably`,
      );
    }
    return `"${value.replace(/\r?\n/g, '\\n')}"`;
  }
  if (/^[A-Za-z0-9_./:@+=,-]*$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  if (!/["\\$]/.test(value)) return `"${value}"`;
  throw new CliError(`${key} has both kinds of quote; set it in .env by hand`);
}

/**
 * `text` (a .env file) with `updates` applied: a key's first assignment is replaced in place,
 * later ones (and multi-line quoted values) removed, new keys appended, a `null` value deletes
 * the key. Comments, blank lines and every other key stay as they were.
 */
export function mergeEnv(text: string, updates: Record<string, string | null>): string {
  const lines = text.length > 0 ? text.replace(/\r?\n$/, '').split(/\r?\n/) : [];
  const out: string[] = [];
  const written = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const match = ASSIGNMENT.exec(line);
    const key = match?.[1];
    if (!key || !(key in updates)) {
      out.push(line);
      continue;
    }
    const quote = opensMultilineQuote(match[2] ?? '');
    if (quote) {
      // Skip the value's continuation lines, up to the one that closes the quote.
      while (i + 1 < lines.length && !(lines[i + 1] ?? '').includes(quote)) i++;
      i++;
    }
    const value = updates[key];
    if (value === null || value === undefined || written.has(key)) continue;
    out.push(`${key}=${formatEnvValue(key, value)}`);
    written.add(key);
  }
  for (const [key, value] of Object.entries(updates)) {
    if (value !== null && !written.has(key)) out.push(`${key}=${formatEnvValue(key, value)}`);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** Replace `path` atomically with `content`, readable by its owner only (it holds secrets). */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, content, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** Apply `updates` to the .env file at `path` (created if missing), keeping its other lines. */
export async function updateEnvFile(path: string, updates: Record<string, string | null>): Promise<void> {
  let current = '';
  try {
    current = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeSecretFile(path, mergeEnv(current, updates));
}

/** The variables of the .env file at `path`, as compose reads them; empty when it does not exist. */
export async function readEnvFile(path: string): Promise<Record<string, string | undefined>> {
  try {
    return parseEnv(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}
