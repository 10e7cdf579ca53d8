import { readFile } from 'node:fs/promises';

/** Resident set size of a process in bytes (`VmRSS` of /proc/<pid>/status), or undefined once it is gone. */
export async function readRss(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  /** Stop sampling; the largest and the last sample, in bytes. */
  stop(): Promise<{ peakBytes: number; lastBytes: number; samples: number }>;
}

/** Sample a process's RSS every `intervalMs` until stopped. */
export function sampleRss(pid: number, intervalMs = 100): RssSampler {
  let peakBytes = 0;
  let lastBytes = 0;
  let samples = 0;
  const sample = async () => {
    const rss = await readRss(pid);
    if (rss === undefined) return;
    samples += 1;
    lastBytes = rss;
    peakBytes = Math.max(peakBytes, rss);
  };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await sample();
      return { peakBytes, lastBytes, samples };
    },
  };
}
