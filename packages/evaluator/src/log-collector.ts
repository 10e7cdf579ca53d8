import { StringDecoder } from 'node:string_decoder';
import { redactSecrets } from '@evalbot/logger';

export interface LogLimits {
  /** Lines kept in the tail. Default 200. */
  maxLines?: number;
  /** Bytes kept in the tail. Default 64 KiB. */
  maxBytes?: number;
  /** Longer lines are cut. Default 2000 characters. */
  maxLineLength?: number;
  /** `onLog` receives at most this many lines at once… Default 100. */
  burst?: number;
  /** …and then this many per second; the rest are counted and reported as skipped. Default 20. */
  linesPerSecond?: number;
}

/** Receives one command's output as bytes and hands complete lines to the collector. */
export interface LineSink {
  write(chunk: Buffer | string): void;
  end(): void;
  /** The last non-empty line this sink saw, for failure messages. */
  readonly lastLine: string | undefined;
}

/**
 * The bounded tail of a job's output. Output is split into lines; only the last lines are
 * kept (so a command printing gigabytes keeps running with constant memory); every kept or
 * forwarded line is redacted first. `onLog` is rate-limited so a chatty model cannot flood
 * the job log.
 */
export class LogCollector {
  private readonly lines: string[] = [];
  private bytes = 0;
  private droppedFromTail = 0;
  private tokens: number;
  private lastRefill: number;
  private skipped = 0;
  private readonly maxLines: number;
  private readonly maxBytes: number;
  readonly maxLineLength: number;
  private readonly burst: number;
  private readonly linesPerSecond: number;

  constructor(
    private readonly opts: {
      secrets: readonly string[];
      onLog?: ((line: string) => void) | undefined;
      /** Every line, redacted, not rate-limited: for a full log kept elsewhere (the worker's disk). */
      onOutput?: ((line: string) => void) | undefined;
      limits?: LogLimits | undefined;
      now?: () => number;
    },
  ) {
    this.maxLines = opts.limits?.maxLines ?? 200;
    this.maxBytes = opts.limits?.maxBytes ?? 64 * 1024;
    this.maxLineLength = opts.limits?.maxLineLength ?? 2000;
    this.burst = opts.limits?.burst ?? 100;
    this.linesPerSecond = opts.limits?.linesPerSecond ?? 20;
    this.tokens = this.burst;
    this.lastRefill = this.now();
  }

  /** Add one complete line (no newline). Redaction happens when lines leave the collector. */
  line(text: string): void {
    this.lines.push(text);
    this.bytes += Buffer.byteLength(text) + 1;
    while (this.lines.length > this.maxLines || (this.bytes > this.maxBytes && this.lines.length > 1)) {
      const dropped = this.lines.shift() ?? '';
      this.bytes -= Buffer.byteLength(dropped) + 1;
      this.droppedFromTail++;
    }
    if (this.opts.onOutput) this.call(this.opts.onOutput, redactSecrets(text, this.opts.secrets));
    this.forward(text);
  }

  /** A sink for one stream of one command. */
  sink(): LineSink {
    const decoder = new StringDecoder('utf8');
    const secrets = this.opts.secrets;
    let partial = '';
    let truncated = false;
    let lastLine: string | undefined;
    const emit = (text: string) => {
      const line = truncated ? `${text} … [line cut at ${this.maxLineLength} characters]` : text;
      truncated = false;
      this.line(line);
      if (line.trim() !== '') lastLine = line;
    };
    const take = (text: string) => {
      let start = 0;
      for (;;) {
        const newline = text.indexOf('\n', start);
        const piece = text.slice(start, newline === -1 ? undefined : newline);
        if (!truncated) {
          partial += piece;
          if (partial.length > this.maxLineLength) {
            partial = partial.slice(0, this.maxLineLength);
            truncated = true;
          }
        }
        if (newline === -1) return;
        emit(partial.endsWith('\r') ? partial.slice(0, -1) : partial);
        partial = '';
        start = newline + 1;
      }
    };
    return {
      write: (chunk) => take(typeof chunk === 'string' ? chunk : decoder.write(chunk)),
      end: () => {
        take(decoder.end());
        if (partial !== '' || truncated) emit(partial);
        partial = '';
      },
      get lastLine() {
        return lastLine === undefined ? undefined : redactSecrets(lastLine, secrets);
      },
    };
  }

  /** The kept lines, redacted again as a whole (a secret may have spanned lines). */
  tail(): string {
    this.flushSkipped();
    const head = this.droppedFromTail > 0 ? [`… (${this.droppedFromTail} earlier lines not kept)`] : [];
    return redactSecrets([...head, ...this.lines].join('\n'), this.opts.secrets);
  }

  private forward(line: string): void {
    if (!this.opts.onLog) return;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.linesPerSecond);
    this.lastRefill = now;
    if (this.tokens < 1) {
      this.skipped++;
      return;
    }
    this.flushSkipped();
    this.tokens -= 1;
    this.call(this.opts.onLog, redactSecrets(line, this.opts.secrets));
  }

  private flushSkipped(): void {
    if (this.skipped === 0) return;
    const count = this.skipped;
    this.skipped = 0;
    this.call(
      this.opts.onLog,
      `[evalbot] ${count} lines not forwarded to the live log (rate limit); the tail keeps the last lines`,
    );
  }

  private call(callback: ((line: string) => void) | undefined, line: string): void {
    try {
      callback?.(line);
    } catch {
      // A failing log callback must not fail the evaluation.
    }
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }
}
