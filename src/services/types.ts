/**
 * Managed services (processes faultline starts and owns), as the coordinator
 * and fault kinds see them. (Owned by src/services/; extend freely, keep these names.)
 */

/** One replica of a managed service, as it is right now. */
export interface ReplicaInfo {
  /** 0-based replica index (position in the service's `ports`). */
  readonly index: number;
  /** Its port (PORT env), when the service declares `ports`. */
  readonly port?: number;
  /** Pid of the replica's process (also its process-group id); undefined while down. */
  readonly pid?: number;
  readonly state: 'starting' | 'ready' | 'down' | 'stopping';
  /** When it last became ready (epoch ms). */
  readonly readyAt?: number;
  /** Restarts so far (by a fault or by the restart policy). */
  readonly restarts: number;
}

/** What a restart measured. */
export interface RestartResult {
  pid: number;
  /** From spawning the new process to it passing its readiness check, ms. */
  readyMs: number;
}

export interface ServiceHandle {
  readonly name: string;
  /** Current pids, one per replica (a replica that is down has no pid). */
  pids(): number[];
  /** Every replica, up or down. */
  replicas(): ReplicaInfo[];
  /** Log file of a replica. */
  logFile(replica: number): string;
}

export interface ServiceRegistry {
  get(name: string): ServiceHandle | undefined;
  names(): string[];
  /** Stops every service (SIGCONT first for paused ones, then SIGTERM, then SIGKILL after a grace). */
  stopAll(): Promise<void>;
  /**
   * (Re)starts a replica (all replicas when omitted) and waits until it is ready.
   * A replica still running is stopped first; a replica already restarting is waited for.
   * Optional so that a registry of plain pids can stand in for a managed one.
   */
  restart?(name: string, replica?: number): Promise<RestartResult[]>;
}
