/**
 * JUnit XML a CI system shows natively: a test case per hypothesis clause
 * (failed, with the load level and the measured value, when it broke below the
 * required level — or at all, with no requirement), a test case per fault
 * ("hypothesis held during slow payment"), and an error test case when the
 * run did not finish.
 */
import type { Result } from '../result.ts';
import type { Reporter } from './reporter.ts';
import { breachText, brokeIt, impactText, recoveryText } from './terminal.ts';
import { rate } from './format.ts';
import { EXIT } from '../errors.ts';

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold. */
export function xml(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  classname: string;
  name: string;
  time: number;
  failure?: { message: string; type: string; body: string };
  error?: { message: string; type: string };
  /** Inconclusive: neither passed nor failed. */
  skipped?: string;
  out?: string;
}

export function junitXml(r: Result): string {
  const cases: Case[] = [];
  const h = r.hypothesis;
  const peak = r.meta.expectedPeak;
  const xp = (v: number) => (peak ? ` (${(v / peak).toFixed(2)}× expected peak)` : '');
  const secs = (r.meta.durationMs ?? 0) / 1000;
  const required = h?.required ?? undefined;
  // The clause verdicts the run stored: the same as the terminal's and the HTML's.
  for (const v of r.clauses ?? []) {
    const c: Case = { classname: 'faultline.hypothesis', name: v.clause, time: secs };
    const bp = v.breakingPoint;
    if (v.outcome === 'fail' && bp && (required === undefined || bp.firstFailing.rate <= required)) {
      const lp = bp.lastPassing ? `; last passing ${rate(bp.lastPassing.rate)} req/s` : '; it passed at no lower level';
      c.failure = {
        type: 'breach',
        message: `broke at ${rate(bp.firstFailing.rate)} req/s${xp(bp.firstFailing.rate)}: ${breachText(bp.clause, bp.value)}${lp}`,
        body: [
          `clause: ${v.clause}`,
          `first failing level: ${rate(bp.firstFailing.rate)} req/s (stage ${bp.firstFailing.stage}, ${(bp.firstFailing.elapsedMs / 1000).toFixed(1)} s into the run)`,
          `measured: ${breachText(bp.clause, bp.value)}`,
          bp.lastPassing ? `last passing level: ${rate(bp.lastPassing.rate)} req/s (${breachText(bp.clause, bp.lastPassing.value).replace(/ [≥≤<>] .*$/, '')})` : 'last passing level: none',
          `interpolated crossing: ${rate(bp.crossing)} req/s`,
          required !== undefined ? `required level: ${rate(required)} req/s` : 'required level: none given',
        ].join('\n'),
      };
    } else if (v.outcome === 'fail') {
      c.failure = { type: v.brokenBy.length ? 'fault' : 'gate', message: v.reason, body: `clause: ${v.clause}\n${v.reason}` };
    } else if (v.outcome === 'inconclusive') {
      c.skipped = `inconclusive: ${v.reason}`;
    } else c.out = v.reason;
    cases.push(c);
  }
  for (const f of r.faults ?? []) {
    const c: Case = { classname: 'faultline.faults', name: `hypothesis held during ${f.fault}`, time: Math.max(0, f.end - f.start) / 1000 };
    const tti = f.timeToImpactMs !== undefined ? `time to impact ${(f.timeToImpactMs / 1000).toFixed(2)}s` : '';
    const ttr = `time to recovery ${recoveryText(f)}`;
    const radius = f.blastRadius.affected.length ? `affected: ${f.blastRadius.affected.join(', ')}` : '';
    const unaffected = f.blastRadius.unaffected.length ? `unaffected: ${f.blastRadius.unaffected.join(', ')}` : '';
    if (!f.held && !brokeIt(f)) {
      // Already broken by load when the fault began: the fault is not blamed, but the hypothesis did not hold.
      c.failure = { type: 'load', message: `the hypothesis was already broken by load when ${f.fault} began (at ${rate(f.offeredRate)} req/s); not blamed on the fault`, body: impactText(f) };
    } else if (!f.held) {
      c.failure = {
        type: 'fault',
        message: `broke under ${f.fault} (${f.kind}) at ${rate(f.offeredRate)} req/s: ${impactText(f)}; ${[tti, ttr, radius].filter(Boolean).join('; ')}`,
        body: [`fault: ${f.fault} (${f.kind}${f.target ? ` → ${f.target}` : ''})`, `load at start: ${rate(f.offeredRate)} req/s`, `impact: ${impactText(f)}`, tti, ttr, radius, unaffected].filter(Boolean).join('\n'),
      };
    } else c.out = `held under ${f.fault} at ${rate(f.offeredRate)} req/s: ${impactText(f)}`;
    cases.push(c);
  }
  if (r.outcome.exitCode === EXIT.aborted || r.outcome.exitCode === EXIT.internal) {
    cases.push({ classname: 'faultline.run', name: 'run completed', time: secs, error: { type: r.outcome.status, message: r.outcome.reason } });
  } else if (r.outcome.exitCode === EXIT.inconclusive && !cases.some((c) => c.skipped)) {
    cases.push({ classname: 'faultline.run', name: 'hypothesis judged', time: secs, skipped: r.outcome.reason });
  } else if (r.outcome.exitCode === EXIT.broke && !cases.some((c) => c.failure)) {
    // The gate failed for a reason no clause shows (the generator ran out, the run never reached the level).
    cases.push({ classname: 'faultline.run', name: 'required level reached', time: secs, failure: { type: 'gate', message: r.outcome.reason, body: r.outcome.reason } });
  }
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const suite = `faultline: ${r.meta.scenario ?? r.meta.target}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="faultline" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${secs.toFixed(3)}">`,
    `  <testsuite name="${xml(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs.toFixed(3)}" timestamp="${xml(r.meta.startedAt.replace(/Z$/, ''))}">`,
    '    <properties>',
    `      <property name="target" value="${xml(r.meta.target)}"/>`,
    ...(peak !== undefined ? [`      <property name="expectedPeak" value="${peak}"/>`] : []),
    ...(required !== undefined ? [`      <property name="required" value="${required}"/>`] : []),
    `      <property name="exitCode" value="${r.outcome.exitCode}"/>`,
    `      <property name="outcome" value="${xml(r.outcome.reason)}"/>`,
    '    </properties>',
  ];
  for (const c of cases) {
    const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${c.time.toFixed(3)}"`;
    if (!c.failure && !c.error && !c.out && !c.skipped) {
      lines.push(open + '/>');
      continue;
    }
    lines.push(open + '>');
    if (c.failure) lines.push(`      <failure message="${xml(c.failure.message)}" type="${xml(c.failure.type)}">${xml(c.failure.body)}</failure>`);
    if (c.skipped) lines.push(`      <skipped message="${xml(c.skipped)}"/>`);
    if (c.error) lines.push(`      <error message="${xml(c.error.message)}" type="${xml(c.error.type)}"/>`);
    if (c.out) lines.push(`      <system-out>${xml(c.out)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

export const junit: Reporter = { name: 'junit', describe: 'write JUnit XML (a test case per hypothesis clause and per fault)', render: junitXml };
