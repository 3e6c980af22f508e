/**
 * The system around a run: managed services, fault proxies and the fault
 * injector, started before the load and torn down after it on every exit path
 * (faults undone first, then proxies closed, then services stopped, then
 * the hosts' namespaces removed).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { seededRandom } from './random.ts';
import { dirname, join, resolve } from 'node:path';
import type { Scenario } from './config/scenario.ts';
import type { TimelineEvent } from './timeline.ts';
import { startServices, type ServiceSpec } from './services/index.ts';
import { startProxies, ThrowawayCa } from './proxy/index.ts';
import type { Journal } from './faults/types.ts';
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
  /** The https trust the load needs for `target`: the run's CA when the target is one of its TLS proxies. */
  trustFor(target: string): { ca: string } | undefined;
  /** Undoes every fault now (idempotent; close() does it too). Never throws. */
  undoFaults?(): Promise<{ failed: { fault: string; error: string }[] }>;
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

/** The run's throwaway CA and where its certificate is written (never its key). */
interface RunCa {
  ca: ThrowawayCa;
  file: string;
  remove(): Promise<void>;
}

/**
 * Makes the run's CA when a proxy terminates TLS, and writes its certificate to
 * `<stateDir>/tls/ca-<pid>.pem` for the system under test to trust; the file's
 * removal is in the journal before the file exists, so `recover` removes it too.
 */
async function writeRunCa(stateDir: string, journal: Journal): Promise<RunCa> {
  const ca = new ThrowawayCa();
  const file = join(stateDir, 'tls', `ca-${process.pid}.pem`);
  const id = await journal.record({ fault: 'run CA certificate', kind: 'tls', undo: { type: 'argv', argv: ['rm', '-f', file], timeoutMs: 5000 } });
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, ca.cert);
  let removed: Promise<void> | undefined;
  return {
    ca,
    file,
    remove: () => (removed ??= rm(file, { force: true }).then(() => journal.clear(id))),
  };
}

const noServices: ServiceRegistry = { get: () => undefined, names: () => [], stopAll: async () => {} };

export async function startEnvironment(scenario: Scenario, opts: EnvironmentOptions): Promise<Environment> {
  const stateDir = resolve(opts.stateDir);
  const journal = new FileJournal(join(stateDir, 'journal.jsonl'));
  const cwd = scenario.file ? dirname(scenario.file) : process.cwd();
  const random = seededRandom(scenario.seed);
  const log = (_m: string) => {};
  const tls = Object.values(scenario.proxies).some((p) => p.mode === 'tls');
  const runCa = tls ? await writeRunCa(stateDir, journal) : undefined;
  let services: ServiceRegistry = noServices;
  let network: HostNetwork | undefined;
  let proxies: ProxyRegistry;
  try {
    if (Object.keys(scenario.services).length) {
      const specs: Record<string, ServiceSpec> = {};
      for (const [k, spec] of Object.entries(scenario.services)) {
        // Managed services learn the run's CA: FAULTLINE_CA_FILE, and Node ones trust it as they are.
        specs[k] = runCa ? { ...spec, env: { FAULTLINE_CA_FILE: runCa.file, NODE_EXTRA_CA_CERTS: runCa.file, ...spec.env } } : spec;
      }
      // Services with `host` run in namespaces of this run's own (closed after the services stop).
      if (Object.values(specs).some((s) => s.host)) network = new HostNetwork({ journal });
      try {
        services = await startServices(specs, { cwd, logDir: join(stateDir, 'logs'), journal, log, network });
      } catch (e) {
        await network?.close();
        throw e;
      }
    }
    try {
      proxies = await startProxies(scenario.proxies, { random, ca: runCa?.ca });
    } catch (e) {
      await services.stopAll().catch(() => {});
      await network?.close();
      throw e;
    }
  } catch (e) {
    await runCa?.remove().catch(() => {});
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
      ...(runCa ? { CA_FILE: runCa.file } : {}),
    },
    random,
    journal,
    log,
    hosts: network,
  };
  const injector = new Injector(scenario.faults, ctx, faultKinds, opts.emit, { clock: opts.now });
  let closed: Promise<{ failed: { fault: string; error: string }[] }> | undefined;
  let undone: Promise<{ failed: { fault: string; error: string }[] }> | undefined;
  const undoFaults = () => (undone ??= injector.undoAll().catch((e: Error) => ({ failed: [{ fault: '(all)', error: e.message }] })));
  return {
    injector,
    services,
    proxies,
    trustFor: (target) => {
      if (!runCa) return undefined;
      const u = new URL(target);
      const ours = proxies.names().some((n) => {
        const p = proxies.get(n)!;
        // Every address here is loopback: the port tells the proxy (localhost and 127.0.0.1 alike).
        return p.mode === 'tls' && p.listen.endsWith(`:${u.port}`);
      });
      return ours ? { ca: runCa.ca.cert } : undefined;
    },
    undoFaults,
    close: () =>
      (closed ??= (async () => {
        const r = await undoFaults();
        await proxies.closeAll().catch(() => {});
        await services.stopAll().catch(() => {});
        await network?.close();
        await runCa?.remove().catch(() => {});
        return r;
      })()),
  };
}
