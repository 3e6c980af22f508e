/**
 * Starts, supervises, restarts and stops the scenario's managed services.
 *
 * Each replica runs in its own process group (`detached: true`) so that
 * signals reach the whole tree (a `sh -c` or `npm start` wrapper and its
 * children); its stdout and stderr go straight to a log file (the fd is handed
 * to the child, so logging does not depend on this process staying alive).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeSync } from 'node:fs';
import { makeDirs } from '../files.ts';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError } from '../errors.ts';
import type { Journal } from '../faults/types.ts';
import type { ReplicaInfo, RestartResult, ServiceHandle, ServiceRegistry } from './types.ts';
import type { ServiceSpec } from './schema.ts';
import { canConnect, portProbe, urlProbe, type Probe } from './readiness.ts';
import { pidExists, processStartTime, sendSignal } from './proc.ts';
import type { HostNetwork } from '../hosts/network.ts';
import type { Host } from '../hosts/types.ts';

/** A service failed to start or become ready. One line, naming the service; found at run time (exit 3). */
export class ServiceStartError extends AbortError {
  readonly service: string;
  constructor(service: string, message: string) {
    super(message);
    this.name = 'ServiceStartError';
    this.service = service;
  }
}

export interface StartServicesOptions {
  /** Base directory for relative `cwd` and `logDir` (the scenario's directory). Default: process.cwd(). */
  cwd?: string;
  /** Default log directory for services without their own `logDir`. Default: `<cwd>/.faultline/logs`. */
  logDir?: string;
  /** When given, every replica's process group is journalled so `faultline recover` can end it after a kill -9. */
  journal?: Journal;
  /** A line for the run's log. */
  log?: (msg: string) => void;
  /** Where services with `host` get their namespaces; required when any service has one. */
  network?: HostNetwork;
}

/** The running services: the registry faults use, plus restart and per-service stop. */
export interface ManagedServices extends ServiceRegistry {
  get(name: string): ManagedService | undefined;
  restart(name: string, replica?: number): Promise<RestartResult[]>;
}

export interface ManagedService extends ServiceHandle {
  readonly spec: ServiceSpec;
}

const now = () => Date.now();

/** Sends a signal to a whole process group; false when the group is gone. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    return sendSignal(-pgid, signal);
  } catch {
    return false;
  }
}

class Replica implements ReplicaInfo {
  readonly index: number;
  readonly port?: number;
  pid?: number;
  state: ReplicaInfo['state'] = 'down';
  readyAt?: number;
  restarts = 0;
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private restarting?: Promise<RestartResult>;
  private policyTimer?: NodeJS.Timeout;
  private journalId?: Promise<string | undefined>;
  private stopped = false;
  private readonly svc: Service;
  /** Its own network namespace, when the service has `host` (made at the first start, kept across restarts). */
  host?: Host;

  constructor(svc: Service, index: number, port: number | undefined) {
    this.svc = svc;
    this.index = index;
    this.port = port;
  }

  info(): ReplicaInfo {
    return { index: this.index, port: this.port, pid: this.pid, state: this.state, readyAt: this.readyAt, restarts: this.restarts };
  }

  private subst(s: string): string {
    return s.replaceAll('{port}', String(this.port ?? '')).replaceAll('{replica}', String(this.index));
  }

  probe(): Probe | undefined {
    const r = this.svc.spec.ready;
    if (r?.url) return urlProbe(this.subst(r.url));
    if (r?.port === true) return portProbe(this.port!);
    if (typeof r?.port === 'number') return portProbe(r.port);
    if (this.port !== undefined) return portProbe(this.port);
    return undefined;
  }

  /** Spawns the process; throws when the command cannot be run at all. */
  private async spawnProcess(): Promise<void> {
    const { spec, name } = this.svc;
    const logFile = this.svc.logFile(this.index);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      writeSync(fd, `--- faultline: starting ${name}[${this.index}] at ${new Date().toISOString()}: ${spec.command} ${spec.args.map((a) => this.subst(a)).join(' ')}\n`);
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const [k, v] of Object.entries(spec.env)) env[k] = this.subst(v);
      if (this.port !== undefined) env.PORT = String(this.port);
      const args = spec.args.map((a) => this.subst(a));
      // `ip netns exec` enters the namespace (and mounts its resolv.conf), then execs the command: same pid.
      const argv = this.host ? ['ip', 'netns', 'exec', this.host.ns, spec.command, ...args] : [spec.command, ...args];
      child = spawn(argv[0]!, argv.slice(1), {
        cwd: this.svc.cwd,
        env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    if (child.pid === undefined) {
      const err = await new Promise<Error>((res) => child.once('error', res));
      throw new ServiceStartError(name, `service ${name}: cannot run ${JSON.stringify(spec.command)}: ${err.message}`);
    }
    child.on('error', () => {}); // e.g. a kill() racing an exit: the exit handler below tells the story
    const pid = child.pid;
    this.child = child;
    this.pid = pid;
    this.state = 'starting';
    this.exited = new Promise((res) => child.once('exit', () => res()));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    const journal = this.svc.opts.journal;
    if (journal) {
      this.journalId = journal
        .record({ fault: `${name}[${this.index}]`, kind: 'service', undo: { type: 'signal', pid: -pid, signal: 'SIGTERM', pidStart: processStartTime(pid) } })
        .catch(() => undefined);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.pid = undefined;
    this.state = 'down';
    const jid = this.journalId;
    this.journalId = undefined;
    void jid
      ?.then((id) => {
        if (id) return this.svc.opts.journal?.clear(id);
      })
      .catch(() => {});
    if (this.stopped || this.restarting) return;
    this.svc.log(`service ${this.svc.name}[${this.index}] exited (${signal ?? `code ${code}`})`);
    const { policy, delay, max } = this.svc.spec.restart;
    const failed = signal !== null || code !== 0;
    if (policy === 'no' || (policy === 'on-failure' && !failed)) return;
    if (max !== undefined && this.restarts >= max) return;
    this.policyTimer = setTimeout(() => {
      this.policyTimer = undefined;
      // Someone (a fault's own restart) may have brought it back meanwhile.
      if (this.state === 'down' && !this.stopped) this.restart().catch((e) => this.svc.log(String(e.message ?? e)));
    }, delay);
  }

  /** Waits for the readiness probe; throws a one-line error on timeout or early exit. */
  private async waitReady(): Promise<void> {
    const { name, spec } = this.svc;
    const child = this.child;
    const probe = this.probe();
    const timeoutMs = spec.ready?.timeout ?? 10_000;
    const deadline = now() + timeoutMs;
    let exited = false;
    void this.exited?.then(() => (exited = true));
    const where = `${name}[${this.index}]${this.port !== undefined ? ` (port ${this.port})` : ''}`;
    const exitMsg = () =>
      `service ${where} exited with ${child?.signalCode ?? `code ${child?.exitCode}`} before it was ready; log: ${this.svc.logFile(this.index)}`;
    if (!probe) {
      // No probe: "ready" means it survived its first moments.
      await Promise.race([sleep(100), this.exited]);
      if (exited) throw new ServiceStartError(name, exitMsg());
    } else {
      for (;;) {
        if (exited) throw new ServiceStartError(name, exitMsg());
        if (await probe.check()) break;
        if (exited) throw new ServiceStartError(name, exitMsg());
        if (now() >= deadline) {
          throw new ServiceStartError(name, `service ${where} did not become ready within ${timeoutMs / 1000}s (waiting for ${probe.describe}); log: ${this.svc.logFile(this.index)}`);
        }
        await Promise.race([sleep(50), this.exited]);
      }
    }
    if (this.child !== child) throw new ServiceStartError(name, exitMsg());
    this.state = 'ready';
    this.readyAt = now();
  }

  async start(): Promise<RestartResult> {
    this.stopped = false;
    const t0 = now();
    // A port that already answers belongs to someone else: a readiness probe would pass
    // against it and the run would measure the wrong server.
    if (this.port !== undefined && (await canConnect(this.port))) {
      throw new ServiceStartError(this.svc.name, `service ${this.svc.name}[${this.index}]: 127.0.0.1:${this.port} is already in use by another process`);
    }
    if (this.svc.spec.host && !this.host) {
      const network = this.svc.opts.network;
      if (!network) throw new ServiceStartError(this.svc.name, `service ${this.svc.name}: \`host\` needs a host network (startServices option \`network\`)`);
      try {
        this.host = await network.add(this.svc.name, this.index, this.port === undefined ? [] : [this.port], this.svc.spec.host!);
      } catch (e) {
        throw new ServiceStartError(this.svc.name, `service ${this.svc.name}[${this.index}]: cannot make its host: ${(e as Error).message}`);
      }
    }
    await this.spawnProcess();
    const pid = this.pid!;
    await this.waitReady();
    return { pid, readyMs: now() - t0 };
  }

  /** Stops the running process (if any) and starts a new one; concurrent calls share one restart. */
  restart(): Promise<RestartResult> {
    if (this.restarting) return this.restarting;
    if (this.policyTimer) clearTimeout(this.policyTimer);
    this.restarting = (async () => {
      await this.stopProcess();
      if (this.stopped) throw new ServiceStartError(this.svc.name, `service ${this.svc.name} is being stopped`);
      this.restarts++;
      return this.start();
    })().finally(() => (this.restarting = undefined));
    return this.restarting;
  }

  /** SIGCONT (a stopped process cannot act on SIGTERM), SIGTERM, SIGKILL after the grace; always the whole group. */
  private async stopProcess(): Promise<void> {
    const child = this.child;
    const pid = this.pid;
    if (child && pid !== undefined) {
      this.state = 'stopping';
      signalGroup(pid, 'SIGCONT');
      signalGroup(pid, 'SIGTERM');
      const exited = this.exited!;
      const inTime = await Promise.race([exited.then(() => true), sleep(this.svc.spec.stopGrace, undefined, { ref: false }).then(() => false)]);
      if (!inTime) {
        signalGroup(pid, 'SIGKILL');
        await Promise.race([exited, sleep(2_000, undefined, { ref: false })]);
      }
      // The leader is gone; grandchildren that ignored SIGTERM still hold the group.
      if (pidExists(-pid)) {
        await sleep(100);
        signalGroup(pid, 'SIGKILL');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.policyTimer) clearTimeout(this.policyTimer);
    // Kill first: a restart waiting for readiness sees the exit and gives up at once.
    await this.stopProcess();
    await this.restarting?.catch(() => {});
    await this.stopProcess();
  }
}

class Service implements ManagedService {
  readonly name: string;
  readonly spec: ServiceSpec;
  readonly cwd: string;
  readonly opts: StartServicesOptions;
  private readonly logDir: string;
  readonly list: Replica[];

  constructor(name: string, spec: ServiceSpec, opts: StartServicesOptions) {
    this.name = name;
    this.spec = spec;
    this.opts = opts;
    const base = opts.cwd ?? process.cwd();
    this.cwd = spec.cwd ? resolve(base, spec.cwd) : base;
    const dir = spec.logDir ?? opts.logDir ?? join(base, '.faultline', 'logs');
    this.logDir = isAbsolute(dir) ? dir : resolve(base, dir);
    this.list = (spec.ports ?? [undefined]).map((p, i) => new Replica(this, i, p));
  }

  log(msg: string): void {
    this.opts.log?.(msg);
  }

  logFile(replica: number): string {
    return join(this.logDir, `${this.name}-${replica}.log`);
  }

  pids(): number[] {
    return this.list.flatMap((r) => (r.pid === undefined ? [] : [r.pid]));
  }

  replicas(): ReplicaInfo[] {
    return this.list.map((r) => r.info());
  }

  async start(): Promise<void> {
    // Not a recursive mkdir: under /proc that never returns (src/files.ts).
    makeDirs(this.logDir);
    const results = await Promise.allSettled(this.list.map((r) => r.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/**
 * Starts every service, in declaration order (a later service may depend on
 * an earlier one), each service's replicas together, and waits until all are
 * ready. If any cannot start or become ready, everything started is stopped
 * and a {@link ServiceStartError} naming the service is thrown.
 */
export async function startServices(specs: Record<string, ServiceSpec>, opts: StartServicesOptions = {}): Promise<ManagedServices> {
  const services = new Map<string, Service>();
  for (const [name, spec] of Object.entries(specs)) services.set(name, new Service(name, spec, opts));

  let stopping: Promise<void> | undefined;
  const registry: ManagedServices = {
    get: (name) => services.get(name),
    names: () => [...services.keys()],
    stopAll() {
      stopping ??= Promise.all([...services.values()].flatMap((s) => s.list.map((r) => r.stop()))).then(() => {});
      return stopping;
    },
    async restart(name, replica) {
      const s = services.get(name);
      if (!s) throw new Error(`no managed service named ${JSON.stringify(name)}`);
      const targets = replica === undefined ? s.list : [s.list[replica]];
      if (targets.some((r) => r === undefined)) throw new Error(`service ${name} has no replica ${replica}`);
      return Promise.all(targets.map((r) => r.restart()));
    },
  };

  try {
    for (const s of services.values()) {
      opts.log?.(`starting service ${s.name} (${s.list.length} replica${s.list.length === 1 ? '' : 's'})`);
      await s.start();
    }
  } catch (e) {
    await registry.stopAll();
    throw e instanceof ServiceStartError ? e : new ServiceStartError('?', `services: ${(e as Error).message}`);
  }
  return registry;
}
