import { GITHUB_LIMITS } from '@evalbot/github/facts';
import { sliceWhole } from '@evalbot/repo-config/slice-whole';

/** GitHub refuses an issue comment body longer than this. */
export const COMMENT_LIMIT = GITHUB_LIMITS.commentBody;
/** GitHub's limit for a check run's `output.summary`. */
export const CHECK_SUMMARY_LIMIT = GITHUB_LIMITS.checkRunOutput;
/** GitHub's limit for a check run's `output.text`. */
export const CHECK_TEXT_LIMIT = GITHUB_LIMITS.checkRunOutput;

/** How much of each optional part a rendering may use. */
export interface Budget {
  /** Characters of log per failed side; 0 leaves the logs out. */
  logChars: number;
  /** Earlier runs shown in the history table. */
  historyRows: number;
  charts: boolean;
  context: boolean;
  /** Characters of each invalid config's problem rows; `Infinity` for all. */
  problemChars: number;
  /** Table rows; `Infinity` for all. Cut only when nothing else is left to cut. */
  maxRows: number;
}

const FULL: Budget = {
  logChars: 12_000,
  historyRows: 10,
  charts: true,
  context: true,
  problemChars: Infinity,
  maxRows: Infinity,
};

/**
 * Budgets from the richest to the leanest: logs shrink first, then the history, then the charts,
 * then the footer, then the problems of an invalid config; the table loses rows only when
 * everything else is gone.
 */
export function* budgets(rowCount: number, logChars = FULL.logChars): Generator<Budget> {
  let b: Budget = { ...FULL, logChars };
  yield b;
  for (const chars of [logChars / 2, logChars / 4, 1000, 0]) {
    if (chars >= b.logChars) continue;
    b = { ...b, logChars: Math.floor(chars) };
    yield b;
  }
  for (const rows of [3, 0]) {
    b = { ...b, historyRows: rows };
    yield b;
  }
  b = { ...b, charts: false };
  yield b;
  b = { ...b, context: false };
  yield b;
  for (const chars of [16_000, 4_000, 0]) {
    b = { ...b, problemChars: chars };
    yield b;
  }
  for (let rows = Math.floor(rowCount / 2); rows >= 1; rows = Math.floor(rows / 2)) {
    b = { ...b, maxRows: rows };
    yield b;
  }
  yield { ...b, maxRows: 0 };
}

/**
 * The richest rendering within `limit` characters (UTF-16 code units, which never undercount
 * GitHub's character count). The last budget's rendering is hard-cut if even it is too long.
 */
export function fitToLimit(
  render: (budget: Budget) => string,
  limit: number,
  rowCount: number,
  logChars?: number,
): { text: string; budget: Budget } {
  let last: { text: string; budget: Budget } | undefined;
  for (const budget of budgets(rowCount, logChars)) {
    const text = render(budget);
    if (text.length <= limit) return { text, budget };
    last = { text, budget };
  }
  // Only reachable with absurd inputs (a huge heading); never send GitHub something it refuses.
  const fallback = last as { text: string; budget: Budget };
  return { text: `${sliceWhole(fallback.text, limit - 2)}\n…`, budget: fallback.budget };
}
