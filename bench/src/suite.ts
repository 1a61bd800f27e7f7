/**
 * The contract between the harness and a benchmark suite. A suite lives in
 * `src/suites/<name>.ts` and default-exports a {@link Suite}; `pnpm bench <name>`
 * runs it.
 */

/**
 * One measured figure. Extra fields carry context (batch size, connections, ratio…).
 *
 * Side-by-side figures (Cairn against etcd) also set `system` and `case`:
 * the harness pairs the two systems' figures with the same `suite` and `case`
 * into a Cairn/etcd ratio, read in the direction `better` says.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Which implementation was measured. */
  system?: "etcd" | "cairn";
  /** What was measured, the same string for both systems (pairs them for ratios). */
  case?: string;
  /** Whether a larger value is better (throughput) or a smaller one (latency, memory). */
  better?: "higher" | "lower";
  [context: string]: unknown;
}

/** What the harness hands a running suite. */
export interface SuiteContext {
  /** Arguments after the suite name, unparsed. */
  readonly args: readonly string[];
  /** Records a figure: a JSON line on stdout and a row of the stderr table. */
  report(figure: Figure): void;
  /** A progress line on stderr (never stdout, which carries only JSON). */
  log(line: string): void;
}

/** A benchmark suite. */
export interface Suite {
  readonly name: string;
  readonly description: string;
  run(context: SuiteContext): Promise<void>;
}
