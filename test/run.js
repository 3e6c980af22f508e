#!/usr/bin/env node
// `npm test`: runs the vitest suite on the project's pinned Node, prints the Node
// version it ran on, and ends with one plain line `N passed, N failed` for CI.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
console.log(`node ${process.version} (${process.execPath})`);
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`faultline needs Node >= 22.19; this is ${process.version}. Run through npm (npm test) so the pinned Node 24 is used.`);
  process.exit(2);
}
const outDir = join(root, 'test', 'artifacts');
mkdirSync(outDir, { recursive: true });
const report = join(outDir, 'vitest.json');
rmSync(report, { force: true });
const args = ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
let passed = 0, failed = 0, skipped = 0;
try {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  passed = j.numPassedTests;
  // A file that failed to load has no failed test of its own: count it as one failure.
  const brokenFiles = (j.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed = j.numFailedTests + brokenFiles;
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
} catch {
  failed = Math.max(1, failed);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
