/** Which rows the bench runs, in order, with their targets (ratio to the parse-only baseline). */
export interface BenchStep {
  readonly row: string;
  readonly label?: string;
  readonly args?: Record<string, unknown>;
  readonly target?: string;
}

export function benchPlan(_cacheDir: string): BenchStep[] {
  return [
    { row: "raw-read", label: "raw read (1 MiB blocks)" },
    { row: "parse-only", label: "parse-only baseline (split + JSON.parse)" },
    { row: "reader", label: "quarry reader", target: ">=0.90" },
  ];
}
