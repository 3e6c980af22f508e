/**
 * `faultline demo`: starts the demo system on free loopback ports, runs the
 * demo scenario through the same `runAndReport` as `faultline run` (live view,
 * Ctrl-C, outputs, report), and for `--compare` runs both shops and prints
 * them side by side. Every process and port belongs to the run: the
 * coordinator stops the services and closes the proxy on every exit path, and
 * the demo servers also leave by themselves if faultline is killed outright.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { normalize } from '../config/scenario.ts';
import { runAndReport } from '../commands/run.ts';
import { reporters } from '../report/index.ts';
import { paint } from '../report/format.ts';
import { EXIT, UsageError } from '../errors.ts';
import type { Result } from '../result.ts';
import { DEMO, QUICK_SCALE, demoScenario, type DemoPorts, type ShopMode } from './scenario.ts';
import { freePorts } from './ports.ts';
import { renderComparison, type DemoRun } from './compare.ts';

/** The `demo` command's flags. */
export interface DemoFlags {
  naive?: boolean;
  /** Payment over TLS, with an expired-certificate fault. */
  tls?: boolean;
  compare?: boolean;
  quick?: boolean;
  html?: string;
  quiet?: boolean;
  color?: boolean;
}

const STATE_DIR = '.faultline';

/** FAULTLINE_DEMO_SCALE wins over --quick; both shorten every stage and fault by the same factor. */
export function demoScale(flags: Pick<DemoFlags, 'quick'>, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FAULTLINE_DEMO_SCALE;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!(Number.isFinite(n) && n >= 0.1 && n <= 10)) throw new UsageError(`FAULTLINE_DEMO_SCALE: expected a factor from 0.1 to 10 (e.g. 0.3), got ${JSON.stringify(raw)}`);
    return n;
  }
  return flags.quick ? QUICK_SCALE : 1;
}

/** Where a run's HTML report goes: the given file (suffixed per shop with --compare), else under .faultline when HTML reports exist. */
function htmlPath(given: string | undefined, mode: ShopMode, compare: boolean): string | undefined {
  if (given === undefined && !reporters.html) return undefined;
  const base = given ?? join(STATE_DIR, 'demo-report.html');
  if (!compare) return base;
  const ext = extname(base);
  return `${base.slice(0, base.length - ext.length)}-${mode}${ext || '.html'}`;
}

function intro(mode: ShopMode, ports: DemoPorts, scale: number, tls = false): string {
  const s = (ms: number) => `${+((ms * scale) / 1000).toFixed(1)} s`;
  const peak = DEMO.expectedPeak;
  const what =
    mode === 'resilient'
      ? 'its payment calls have a 200 ms timeout and a circuit breaker that answers "202 payment queued"'
      : 'its payment calls have no timeout and share one connection pool';
  return [
    `faultline demo — the ${mode} shop: GET /products from memory, POST /checkout calls payment; ${what}.`,
    `  shop http://127.0.0.1:${ports.shop} · payment 127.0.0.1:${ports.payment} behind the fault proxy 127.0.0.1:${ports.proxy}${tls ? ' (TLS, certificates from a throwaway CA the shop trusts)' : ''}`,
    `  load: baseline ${peak / 2} req/s, then ${peak} → ${peak * 3} req/s (1× → 3× the expected peak) in 5 steps of ${s(DEMO.stepMs)}; hypothesis p99 < 250ms, errors < 1%, products.p99 < 100ms`,
    `  faults: payment +800 ms ± 200 ms for ${s(DEMO.slowPaymentMs)} at ${peak} req/s; ${tls ? `payment's certificate expired for ${s(DEMO.expiredCertMs)} at ${peak * 1.5} req/s; ` : ''}payment killed at ${peak * 2} req/s, restarted after ${s(DEMO.restartMs)}`,
    '',
  ].join('\n');
}

/** Runs the demo; resolves to the exit code. */
export async function runDemo(flags: DemoFlags, command = 'faultline demo'): Promise<number> {
  if (flags.naive && flags.compare) throw new UsageError('--naive and --compare: choose one (--compare runs both shops)');
  const scale = demoScale(flags);
  const modes: ShopMode[] = flags.compare ? ['resilient', 'naive'] : [flags.naive ? 'naive' : 'resilient'];
  const err = paint(process.stderr, flags.color === false);
  const out = paint(process.stdout, flags.color === false);
  const runs: DemoRun[] = [];
  let broke = false;
  // The demo writes its results into faultline's own state directory: on a fresh clone, make it
  // (one level, in the working directory; outputs the user names are never created for them).
  await mkdir(STATE_DIR).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw new UsageError(`cannot create ${STATE_DIR}: ${e.message}`);
  });
  for (const mode of modes) {
    const [shop, proxy, payment] = await freePorts(3);
    const ports = { shop, proxy, payment };
    const scenario = normalize(demoScenario(mode, ports, scale, { tls: flags.tls }));
    const json = join(STATE_DIR, `demo-${mode}.json`);
    if (runs.length) process.stderr.write('\n');
    process.stderr.write(err.bold(intro(mode, ports, scale, flags.tls)) + '\n');
    const html = htmlPath(flags.html, mode, !!flags.compare);
    const code = await runAndReport(scenario, { json, html, quiet: flags.quiet, color: flags.color }, command);
    // Interrupted, or faultline itself failed: stop here, as `run` would.
    if (code !== EXIT.held && code !== EXIT.broke) return code;
    // The full report lists the files it wrote; the quiet one does not.
    if (flags.quiet && html && existsSync(html)) process.stdout.write(`HTML report: ${html}\n`);
    broke ||= code === EXIT.broke;
    runs.push({ mode, result: JSON.parse(await readFile(json, 'utf8')) as Result });
  }
  process.stdout.write('\n');
  if (flags.compare) process.stdout.write(renderComparison(runs, out) + '\n');
  else if (modes[0] === 'resilient') process.stdout.write(out.dim('Next: `faultline demo --naive` runs the same experiment against a shop without the timeout and the breaker; `faultline demo --compare` runs both side by side.') + '\n');
  else process.stdout.write(out.dim('Next: `faultline demo --compare` runs this shop and the resilient one side by side.') + '\n');
  // One shop: its exit code, as `run` would give it (the resilient shop holds: 0; the naive one's
  // slow payment hurts more than checkout: 1). Side by side, the comparison is the result: 0.
  if (!flags.compare) return broke ? EXIT.broke : EXIT.held;
  if (broke) process.stdout.write(out.dim('(--compare exits 0 whatever the verdicts: what it found is in the reports above)') + '\n');
  return EXIT.held;
}
