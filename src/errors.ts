/** Exit codes, as DESIGN.md fixes them for CI gates. */
export const EXIT = {
  held: 0,
  broke: 1,
  usage: 2,
  aborted: 3,
  internal: 4,
  /** Too few requests were due, or the generator or an agent (not the system) was the limit, where the verdict was needed. */
  inconclusive: 5,
} as const;

/** Bad usage or an invalid scenario: printed as one line per problem, exit 2. */
export class UsageError extends Error {
  readonly problems: string[];
  constructor(problems: string | string[]) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.join('\n'));
    this.name = 'UsageError';
    this.problems = list;
  }
}

/** The run was stopped before its end (stop condition, unreachable target, signal): exit 3. */
export class AbortError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'AbortError';
    this.reason = reason;
  }
}
