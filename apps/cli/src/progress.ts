import type { Env } from '@evalbot/config';
import type { OutputStream } from './cli-context.ts';

/** One long step, e.g. evaluating one side. Several can run at once. */
export interface ProgressTask {
  /** What the step is doing now; `percent` in 0–100 when known. */
  update(message: string, percent?: number): void;
  succeed(message?: string): void;
  fail(message?: string): void;
}

export interface Progress {
  task(label: string): ProgressTask;
  /** A line of its own, printed above the running tasks. */
  log(line: string): void;
  /** Stop drawing and clear the lines of tasks still running (they are not reported as finished). */
  stop(): void;
}

export interface ProgressOptions {
  /** Where progress goes: stderr, so that stdout carries only the result. */
  stream: OutputStream;
  /** Draw spinners in place; by default when `stream` is a terminal and not `TERM=dumb` or CI. */
  interactive?: boolean;
  env?: Env;
  now?: () => number;
  /** Spinner frame interval. */
  intervalMs?: number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const CLEAR_LINE = '\r\x1b[2K';
const UP = '\x1b[1A';

interface TaskState {
  label: string;
  message: string;
  percent: number | undefined;
  startedAt: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
/**
 * Labels and messages carry the evaluated branch's text (its commands, metric names, last line
 * of output): without control characters, it cannot drive the terminal (OSC 52 clipboard, title,
 * cursor moves that redraw a fake verdict) nor break the one-line-per-task drawing.
 */
const printable = (text: string) => text.replace(CONTROL, '');

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const suffix = (t: TaskState) =>
  `${t.message ? ` — ${t.message}` : ''}${t.percent === undefined ? '' : ` (${Math.round(t.percent)}%)`}`;

/**
 * Show progress of long steps. On a terminal every running task has a spinner line, redrawn in
 * place; finished tasks and `log` lines scroll above them. Elsewhere (a pipe, a CI log) each
 * start, change of message and end is one plain line, so the log stays readable.
 */
export function createProgress(opts: ProgressOptions): Progress {
  const env = opts.env ?? {};
  const interactive = opts.interactive ?? (opts.stream.isTTY === true && env.TERM !== 'dumb' && !env.CI);
  const now = opts.now ?? Date.now;
  const running = new Set<TaskState>();
  let drawnLines = 0;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;

  const width = () => Math.max(20, (opts.stream.columns || 80) - 1);
  const fit = (line: string) => (line.length > width() ? `${line.slice(0, width() - 1)}…` : line);

  const erase = () => {
    let out = '';
    for (let i = 0; i < drawnLines; i++) out += `${CLEAR_LINE}${i < drawnLines - 1 ? UP : ''}`;
    drawnLines = 0;
    return out;
  };
  const draw = () => {
    const lines = [...running].map((t) => fit(`${FRAMES[frame % FRAMES.length]} ${t.label}${suffix(t)}`));
    drawnLines = lines.length;
    return lines.join('\n');
  };
  const redraw = (above = '') => {
    opts.stream.write(`${erase()}${above}${draw()}`);
  };
  const ensureTimer = () => {
    if (timer || !interactive) return;
    timer = setInterval(() => {
      frame++;
      redraw();
    }, opts.intervalMs ?? 80);
    timer.unref();
  };
  const stopTimerIfIdle = () => {
    if (timer && running.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const print = (line: string) => {
    if (interactive) redraw(`${line}\n`);
    else opts.stream.write(`${line}\n`);
  };

  const finish = (state: TaskState, ok: boolean, message?: string) => {
    if (!running.delete(state)) return;
    const took = seconds(now() - state.startedAt);
    const detail = message ? `: ${printable(message)}` : '';
    print(
      interactive
        ? `${ok ? '✔' : '✖'} ${state.label}${detail} (${took})`
        : `${state.label}: ${ok ? 'done' : 'failed'}${detail} (${took})`,
    );
    stopTimerIfIdle();
  };

  return {
    task(rawLabel) {
      const label = printable(rawLabel);
      const state: TaskState = { label, message: '', percent: undefined, startedAt: now() };
      running.add(state);
      if (interactive) {
        redraw();
        ensureTimer();
      } else {
        opts.stream.write(`${label}: started\n`);
      }
      return {
        update(rawMessage, percent) {
          if (!running.has(state)) return;
          const message = printable(rawMessage);
          const changed = message !== state.message;
          state.message = message;
          state.percent = percent;
          if (interactive) redraw();
          else if (changed)
            opts.stream.write(
              `${label}: ${message}${percent === undefined ? '' : ` (${Math.round(percent)}%)`}\n`,
            );
        },
        succeed: (message) => finish(state, true, message),
        fail: (message) => finish(state, false, message),
      };
    },
    log: (line) => print(printable(line)),
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (interactive && drawnLines > 0) opts.stream.write(`${erase()}`);
      running.clear();
    },
  };
}
