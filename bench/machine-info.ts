import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** The machine the figures were measured on, as lines for BENCHMARKS.md. */
export function describeMachine(facts: Record<string, string>): Record<string, string> {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: os.cpus() already named it.
  }
  let python = 'not found';
  try {
    python = execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // Left as "not found": the end-to-end benchmark needs it, the others do not.
  }
  return {
    CPU: cpu,
    cores: String(cpus().length),
    RAM: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    Node: process.version,
    Python: python,
    ...facts,
  };
}
