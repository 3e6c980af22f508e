import type { Command } from 'commander';
import { runDemo, type DemoFlags } from '../demo/run.ts';
import { QUICK_SCALE } from '../demo/scenario.ts';

/** `faultline demo`: a shop, its payment provider and a fault proxy, started and stopped by faultline; about a minute. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('run the built-in demo: a shop whose payment provider slows down, then crashes, under load up to 3× its expected peak (about a minute)')
    .option('--naive', 'the shop without a timeout or a circuit breaker on its payment calls')
    .option('--tls', "payment over TLS (a throwaway CA the shop trusts), and payment's certificate expires for a while at 1.5× the peak")
    .option('--compare', 'run the resilient and the naive shop, then show them side by side (about two minutes)')
    .option('--quick', `shorter stages and faults (×${QUICK_SCALE}); FAULTLINE_DEMO_SCALE=<factor> sets any factor`)
    .option('--html <file>', 'write the HTML report here (default .faultline/demo-report.html)')
    .option('-q, --quiet', 'no live view; print only the verdict')
    .option('--no-color', 'plain output')
    .action(async (flags: DemoFlags) => {
      process.exitCode = await runDemo(flags, process.argv.slice(2).join(' '));
    });
}
