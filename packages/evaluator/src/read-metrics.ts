import { join } from 'node:path';
import { MetricsShapeError, metricsFromLiteral, type ParsedMetrics } from './metrics-from-literal.ts';
import { LiteralSyntaxError, parsePythonLiteral } from './parse-python-literal.ts';
import { readFileInside, UnsafeFileError } from './read-file-inside.ts';

/** A metrics file is a few hundred bytes; a megabyte is room for long histories. */
export const MAX_METRICS_BYTES = 1024 * 1024;

export type ReadMetricsResult = ({ ok: true } & ParsedMetrics) | { ok: false; message: string };

/**
 * Read and parse the metrics file `file` (relative to `displayDir` under `root`, the checkout: a
 * working directory swapped for a symlink is caught on the way; `command` ran there;
 * `displayDir` is that directory as the PR author knows it, e.g. `.` or `model`).
 * Every problem comes back as a message a PR author can act on, naming the file.
 */
export async function readMetrics(opts: {
  /** The checkout: the job's, which PR code cannot replace (its parent is the worker's). */
  root: string;
  displayDir: string;
  file: string;
  command: string;
}): Promise<ReadMetricsResult> {
  const { root, displayDir, file, command } = opts;
  let text: string;
  try {
    text = await readFileInside(root, join(displayDir, file), MAX_METRICS_BYTES);
  } catch (error) {
    if (!(error instanceof UnsafeFileError)) throw error;
    if (error.reason === 'missing') {
      return {
        ok: false,
        message: `\`${command}\` exited with code 0 but did not write \`${file}\` in \`${displayDir}\`; write the metrics there, or set metrics_file in .evalbot.yml`,
      };
    }
    return { ok: false, message: `the metrics file \`${file}\` ${error.message}` };
  }
  try {
    return { ok: true, ...metricsFromLiteral(parsePythonLiteral(text)) };
  } catch (error) {
    if (error instanceof LiteralSyntaxError) {
      return {
        ok: false,
        message: `the metrics file \`${file}\` is neither JSON nor a Python dict literal: ${error.message}`,
      };
    }
    if (error instanceof MetricsShapeError) {
      const glue = error.message.startsWith('holds') ? ' ' : ': ';
      return { ok: false, message: `the metrics file \`${file}\`${glue}${error.message}` };
    }
    throw error;
  }
}
