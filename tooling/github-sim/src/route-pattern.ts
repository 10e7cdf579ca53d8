/**
 * A path pattern such as `/repos/:owner/:repo/issues/{issue_number}/comments`, `/:owner/:repo.git/*`.
 * `:name` and `{name}` match one path segment (or the part of it before a literal suffix such as
 * `.git`); `*` matches anything, slashes included.
 */
export interface CompiledPattern {
  regex: RegExp;
  names: string[];
}

export function compilePathPattern(pattern: string): CompiledPattern {
  const names: string[] = [];
  let source = '';
  const token = /:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\}|\*/g;
  let last = 0;
  for (let match = token.exec(pattern); match; match = token.exec(pattern)) {
    source += escapeRegex(pattern.slice(last, match.index));
    if (match[0] === '*') source += '.*';
    else {
      names.push(match[1] ?? match[2] ?? '');
      // Lazy, so that `:repo.git` leaves `.git` to the literal that follows.
      source += '([^/]+?)';
    }
    last = match.index + match[0].length;
  }
  source += escapeRegex(pattern.slice(last));
  return { regex: new RegExp(`^${source}/?$`), names };
}

/** The parameters of `path` if it matches, else undefined. Values are URL-decoded. */
export function matchPath(compiled: CompiledPattern, path: string): Record<string, string> | undefined {
  const match = compiled.regex.exec(path);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  compiled.names.forEach((name, i) => {
    params[name] = safeDecode(match[i + 1] ?? '');
  });
  return params;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
