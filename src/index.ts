/**
 * faultline as a library: the CLI calls these same functions.
 *
 *   import { defineScenario, normalize, run } from 'faultline';
 *   const result = await run(normalize(defineScenario({ ... })));
 */
export { defineScenario } from './config/schema.ts';
export type { ScenarioInput } from './config/schema.ts';
export { normalize, loadScenarioFile, type Scenario } from './config/scenario.ts';
export { run, type RunOptions } from './coordinator.ts';
export type { Result } from './result.ts';
export type { Window, Timeline, TimelineEvent, StageResult } from './timeline.ts';
export { EXIT, UsageError, AbortError } from './errors.ts';
export { correlate } from './analysis/correlation.ts';
export { publish, writeOutputs, reporters } from './report/index.ts';
export { renderReport, verdictSentence } from './report/terminal.ts';
export { compareResults, renderComparison } from './report/compare.ts';
export { htmlReport } from './report/html.ts';
export { junitXml } from './report/junit.ts';
export { hdrLog } from './report/hdrlog.ts';
