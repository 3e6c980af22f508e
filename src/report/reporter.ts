/** The one small interface every file reporter implements (vitest's ReportersMap, Vegeta's reporters). */
import type { Result } from '../result.ts';

export interface Reporter {
  /** Its output flag (`--<name> <file>`) and its key in the reporter table. */
  readonly name: string;
  /** One line for `--help` and the README. */
  readonly describe: string;
  /** The file's text, from the Result alone. */
  render(r: Result): string;
}
