/**
 * Managed services (processes faultline starts and owns), as the coordinator
 * and fault kinds see them. (Owned by src/services/; extend freely, keep these names.)
 */
export interface ServiceHandle {
  readonly name: string;
  /** Current pids, one per replica (a replica that is down has no pid). */
  pids(): number[];
}

export interface ServiceRegistry {
  get(name: string): ServiceHandle | undefined;
  names(): string[];
  /** Stops every service (SIGCONT first for paused ones, then SIGTERM, then SIGKILL after a grace). */
  stopAll(): Promise<void>;
}
