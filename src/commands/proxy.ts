import type { Command } from 'commander';
import { runProxyCommand } from '../proxy/index.ts';

/** `faultline proxy --api 127.0.0.1:8474`: the fault proxy standalone, serving Toxiproxy's REST API. */
export function register(program: Command): void {
  program
    .command('proxy')
    .description("run the fault proxy standalone with a Toxiproxy-compatible REST API (loopback only)")
    .option('--api <host:port>', 'where the API listens', '127.0.0.1:8474')
    .option('--config <file>', 'JSON array of proxies to create at start ({name, listen, upstream})')
    .action(async (o: { api: string; config?: string }) => {
      await runProxyCommand({ api: o.api, config: o.config, log: (m) => process.stderr.write(`${m}\n`) });
    });
}
