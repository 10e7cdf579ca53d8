/** One benchmark target and whether this run met it. */
export interface TargetResult {
  name: string;
  /** The measured value as shown, e.g. `0.62×`. */
  measured: string;
  /** The target as shown, e.g. `≥ 0.5×`. */
  target: string;
  met: boolean;
}

/** What one benchmark hands to the report: Markdown for BENCHMARKS.md and its targets. */
export interface SectionResult {
  id: BenchmarkId;
  title: string;
  /** Tables and notes, without the heading. */
  markdown: string;
  targets: TargetResult[];
  /** Facts about the machine this section learned (e.g. the TensorFlow version it installed). */
  facts?: Record<string, string>;
}

export const BENCHMARK_IDS = ['ingestion', 'e2e', 'scale', 'memory', 'sandbox'] as const;
export type BenchmarkId = (typeof BENCHMARK_IDS)[number];

/** A Markdown table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) =>
    `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The targets of a section as a Markdown table. */
export function targetsTable(targets: TargetResult[]): string {
  return table(
    ['target', 'measured', 'wanted', ''],
    targets.map((t) => [t.name, t.measured, t.target, t.met ? 'met' : '**missed**']),
  );
}
