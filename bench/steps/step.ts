// What every bench step is: a name (`npm run bench -- <name>`, spaces as dashes),
// the figures it holds to a target, and the code that measures them.
import type { Figure } from '../report.js';

export interface StepContext {
  /** A scratch folder of this run, removed at its end. */
  work: string;
  /** The step's raw measurements go here, under its own key, for the JSON results. */
  raw: Record<string, unknown>;
  /** Things to report that are not figures (leftover processes, …). */
  warnings: string[];
}

export interface Step {
  name: string;
  /** Ids of the figures this step holds to a target (some only when a peer ran), so the registry says what each step promises. */
  targets: readonly string[];
  run(context: StepContext): Promise<Figure[]>;
}

export const MB = 1e6;
export const KB = 1e3;

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
