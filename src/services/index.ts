/** Managed services: the scenario's `services`, started, supervised and stopped by faultline. */
export { serviceSpecSchema, type ServiceSpec, type ServiceSpecInput } from './schema.ts';
export { startServices, ServiceStartError, type StartServicesOptions, type ManagedServices, type ManagedService } from './manager.ts';
export type { ServiceHandle, ServiceRegistry, ReplicaInfo, RestartResult } from './types.ts';
