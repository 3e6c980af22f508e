/**
 * `faultline proxy --api 127.0.0.1:8474 [--config proxies.json]`: the proxy
 * standalone, serving Toxiproxy's REST API until SIGINT or SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import { parseHostPort } from '../config/units.ts';
import { startProxyApi } from './api.ts';
import type { ProxyApi } from './api.ts';
import { ProxyError, loopbackAddress } from './base.ts';

/** Options of the `proxy` command. */
export interface ProxyCommandOptions {
  /** host:port for the API (loopback). */
  api: string;
  /**
   * A JSON file of proxies to create at start, as Toxiproxy's -config:
   * an array of `{ name, listen, upstream, enabled?, mode? }`.
   */
  config?: string;
  /** Where to say what is listening (default: stdout). */
  log?: (line: string) => void;
  /** Resolves to stop (tests); by default the command stops on SIGINT / SIGTERM. */
  until?: Promise<unknown>;
}

export async function runProxyCommand(opts: ProxyCommandOptions): Promise<void> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const hp = parseHostPort(opts.api);
  if (!hp) throw new UsageError(`--api: expected host:port like "127.0.0.1:8474", got ${JSON.stringify(opts.api)}`);
  try {
    loopbackAddress('--api', opts.api);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let initial: unknown[] = [];
  if (opts.config) {
    let text: string;
    try {
      text = await readFile(opts.config, 'utf8');
    } catch (err) {
      throw new UsageError(`--config: cannot read ${opts.config}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`--config: ${opts.config} is not JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new UsageError(`--config: ${opts.config} must hold an array of proxies`);
    initial = parsed;
  }
  let api: ProxyApi;
  try {
    api = await startProxyApi({ host: hp.host, port: hp.port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`--api: ${opts.api} is already in use`);
    throw err;
  }
  try {
    if (initial.length) {
      const res = await fetch(`${api.url}/populate`, { method: 'POST', body: JSON.stringify(initial), headers: { 'content-type': 'application/json' } });
      if (!res.ok) {
        const e = (await res.json().catch(() => ({}))) as { error?: string };
        throw new UsageError(`--config: ${e.error ?? `populate failed with ${res.status}`}`);
      }
    }
    log(`faultline proxy: Toxiproxy API on ${api.url}`);
    for (const p of api.proxies.all()) log(`  ${p.name}: ${p.listen} -> ${p.upstream} (${p.mode})`);
    await (opts.until ?? signalled());
  } catch (err) {
    if (err instanceof ProxyError) throw new UsageError(err.message);
    throw err;
  } finally {
    await api.close();
  }
}

function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
