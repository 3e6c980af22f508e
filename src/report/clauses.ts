/** Times of a (saved) result that several reports need. */
export { runStartOf, runEndOf } from '../analysis/upgrade.ts';
