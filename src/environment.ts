/**
 * The system around a run: managed services, fault proxies and the fault
 * injector, started before the load and torn down after it on every exit path
 * (faults undone first, then proxies closed, then services stopped, then
 * the hosts' namespaces removed).
 */
import { seededRandom } from './random.ts';
import { dirname, join, resolve } from 'node:path';
import type { Scenario } from './config/scenario.ts';
import type { TimelineEvent } from './timeline.ts';
import { startServices, serviceSpecSchema, type ServiceSpec } from './services/index.ts';
import { startProxies } from './proxy/index.ts';
import { Injector } from './faults/injector.ts';
import { FileJournal } from './faults/journal.ts';
import { faultKinds } from './faults/index.ts';
import type { FaultContext } from './faults/types.ts';
import type { ServiceRegistry } from './services/types.ts';
import type { ProxyRegistry } from './proxy/types.ts';
import { HostNetwork } from './hosts/network.ts';

export interface InjectorLike {
  tick(state: { now: number; elapsedMs: number; offeredRate: number; stage: number }): Promise<void>;
  active(): string[];
}

export interface Environment {
  injector: InjectorLike;
  services: ServiceRegistry;
  proxies: ProxyRegistry;
  /** Undoes every fault, closes proxies, stops services. Never throws. */
  close(): Promise<{ failed: { fault: string; error: string }[] }>;
}

export interface EnvironmentOptions {
  emit: (e: TimelineEvent) => void;
  now: () => number;
  stateDir: string;
  runStart: number;
}

export { seededRandom } from './random.ts';

const noServices: ServiceRegistry = { get: () => undefined, names: () => [], stopAll: async () => {} };

export async function startEnvironment(scenario: Scenario, opts: EnvironmentOptions): Promise<Environment> {
  const stateDir = resolve(opts.stateDir);
  const journal = new FileJournal(join(stateDir, 'journal.jsonl'));
  const cwd = scenario.file ? dirname(scenario.file) : process.cwd();
  const random = seededRandom(scenario.seed);
  const log = (_m: string) => {};
  let services: ServiceRegistry = noServices;
  let network: HostNetwork | undefined;
  if (Object.keys(scenario.services).length) {
    const specs: Record<string, ServiceSpec> = {};
    for (const [k, v] of Object.entries(scenario.services)) specs[k] = serviceSpecSchema.parse(v);
    // Services with `host` run in namespaces of this run's own (closed after the services stop).
    if (Object.values(specs).some((s) => s.host)) network = new HostNetwork({ journal });
    try {
      services = await startServices(specs, { cwd, logDir: join(stateDir, 'logs'), journal, log, network });
    } catch (e) {
      await network?.close();
      throw e;
    }
  }
  let proxies: ProxyRegistry;
  try {
    proxies = await startProxies(scenario.proxies as Parameters<typeof startProxies>[0], { random });
  } catch (e) {
    await services.stopAll().catch(() => {});
    await network?.close();
    throw e;
  }
  const ctx: FaultContext = {
    proxies,
    services,
    facts: {
      RUN_START: new Date(opts.runStart).toISOString(),
      TARGET: scenario.target,
      SCENARIO: scenario.name,
      STATE_DIR: stateDir,
      PID: String(process.pid),
    },
    random,
    journal,
    log,
    hosts: network,
  };
  const injector = new Injector(scenario.faults, ctx, faultKinds, opts.emit, { clock: opts.now });
  let closed: Promise<{ failed: { fault: string; error: string }[] }> | undefined;
  return {
    injector,
    services,
    proxies,
    close: () =>
      (closed ??= (async () => {
        const r = await injector.undoAll().catch((e: Error) => ({ failed: [{ fault: '(all)', error: e.message }] }));
        await proxies.closeAll().catch(() => {});
        await services.stopAll().catch(() => {});
        await network?.close();
        return r;
      })()),
  };
}
