/**
 * The manifests for a scale-out run on Kubernetes: the engine is Kubernetes'
 * Indexed Job, not ours. N pods, each `faultline agent`, each told its index
 * by JOB_COMPLETION_INDEX; a headless Service gives agent 0 the stable name
 * `<job>-0.<service>` (the pod's hostname and subdomain) that the others
 * dial; a ConfigMap holds the scenario file, mounted at the same path in every
 * pod. Agent 0 prints the report (kubectl logs), writes the result JSON to
 * /results and exits with the run's exit code, which becomes the Job's.
 */
import { AGENT_PORT } from './messages.ts';

export interface K8sOptions {
  /** Job, Service and ConfigMap name (a DNS label). */
  name: string;
  namespace?: string;
  agents: number;
  image: string;
  /** The scenario file's name and text, as the ConfigMap holds them. */
  scenarioName: string;
  scenarioText: string;
  /** Extra flags for every agent 0 run (--hypothesis, --json is set here). */
  extraArgs?: string[];
  /** CPU and memory per agent (requests = limits), e.g. "2" and "1Gi". */
  cpu?: string;
  memory?: string;
  /** Load workers per agent (default: one per CPU less one when --cpu is given). */
  workers?: number;
  /** A PersistentVolumeClaim that keeps agent 0's /results after the pod ends. */
  resultsClaim?: string;
  maxSkew?: string;
  joinTimeout?: string;
}

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

export const SCENARIO_DIR = '/scenario';
export const RESULTS_DIR = '/results';

/** A Kubernetes name: lower-case letters, digits and '-', starting with a letter, at most 52 characters (room for "-<index>-xxxxx"). */
export function checkName(name: string): string | undefined {
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 52) return `--name: expected a DNS label of lower-case letters, digits and '-' (at most 52 characters), got ${JSON.stringify(name)}`;
  return undefined;
}

/** ConfigMap keys: letters, digits, '-', '_' and '.'. */
export function configKey(file: string): string {
  const k = file.replace(/[^-._a-zA-Z0-9]/g, '_');
  return k.startsWith('.') ? `scenario${k}` : k;
}

export function k8sManifests(o: K8sOptions): Manifest[] {
  const ns = o.namespace ? { namespace: o.namespace } : {};
  const labels = { 'app.kubernetes.io/name': 'faultline', 'app.kubernetes.io/instance': o.name };
  const key = configKey(o.scenarioName);
  const coordinator = `${o.name}-0.${o.name}:${AGENT_PORT}`;
  const workers = o.workers ?? (o.cpu !== undefined ? Math.max(1, Math.floor(cpuCores(o.cpu)) - 1) : undefined);
  const args = [
    'agent',
    `${SCENARIO_DIR}/${key}`,
    '--agents',
    String(o.agents),
    '--coordinator',
    coordinator,
    '--listen',
    String(AGENT_PORT),
    '--json',
    `${RESULTS_DIR}/result.json`,
    ...(workers !== undefined ? ['--workers', String(workers)] : []),
    ...(o.maxSkew ? ['--max-skew', o.maxSkew] : []),
    ...(o.joinTimeout ? ['--join-timeout', o.joinTimeout] : []),
    ...(o.extraArgs ?? []),
  ];
  const resources =
    o.cpu !== undefined || o.memory !== undefined
      ? {
          resources: {
            requests: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) },
            limits: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) },
          },
        }
      : {};
  const configMap: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: o.name, ...ns, labels },
    data: { [key]: o.scenarioText },
  };
  const service: Manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.name, ...ns, labels },
    spec: {
      // Headless: DNS answers with the pods themselves, so `<job>-0.<service>` is agent 0.
      clusterIP: 'None',
      // Agents dial agent 0 before any readiness could be known.
      publishNotReadyAddresses: true,
      selector: { 'app.kubernetes.io/instance': o.name },
      ports: [{ name: 'agents', port: AGENT_PORT, targetPort: AGENT_PORT, protocol: 'TCP' }],
    },
  };
  const job: Manifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: o.name, ...ns, labels },
    spec: {
      completionMode: 'Indexed',
      completions: o.agents,
      parallelism: o.agents,
      // A failed agent is not retried: a restarted agent would send load nobody planned.
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          // Pod hostname <job>-<index> in this subdomain: agent 0 is <job>-0.<service>.
          subdomain: o.name,
          restartPolicy: 'Never',
          containers: [
            {
              name: 'agent',
              image: o.image,
              command: ['faultline'],
              args,
              env: [{ name: 'FAULTLINE_AGENTS', value: String(o.agents) }],
              ports: [{ name: 'agents', containerPort: AGENT_PORT, protocol: 'TCP' }],
              volumeMounts: [
                { name: 'scenario', mountPath: SCENARIO_DIR, readOnly: true },
                { name: 'results', mountPath: RESULTS_DIR },
              ],
              ...resources,
            },
          ],
          volumes: [
            { name: 'scenario', configMap: { name: o.name } },
            o.resultsClaim ? { name: 'results', persistentVolumeClaim: { claimName: o.resultsClaim } } : { name: 'results', emptyDir: {} },
          ],
        },
      },
    },
  };
  return [configMap, service, job];
}

/** "2" → 2, "500m" → 0.5. */
function cpuCores(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(v.trim());
  if (!m) return 1;
  return m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
}

/** What Kubernetes' schema does not say: the rules a Job of agents must keep. Empty when all hold. */
export function checkManifests(ms: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const job = ms.find((m) => m.kind === 'Job') as { spec?: Record<string, any>; metadata: { name: string } } | undefined;
  const svc = ms.find((m) => m.kind === 'Service') as { spec?: Record<string, any>; metadata: { name: string } } | undefined;
  const cm = ms.find((m) => m.kind === 'ConfigMap') as { data?: Record<string, string>; metadata: { name: string } } | undefined;
  if (!job || !svc || !cm) return ['expected a Job, a Service and a ConfigMap'];
  const s = job.spec ?? {};
  if (s.completionMode !== 'Indexed') problems.push('Job: completionMode must be Indexed (agents read JOB_COMPLETION_INDEX)');
  if (!Number.isInteger(s.completions) || s.completions < 1) problems.push('Job: an Indexed Job needs completions (the number of agents)');
  if (s.parallelism !== s.completions) problems.push('Job: parallelism must equal completions (every agent runs at once, or the start barrier waits forever)');
  if (s.backoffLimit !== 0) problems.push('Job: backoffLimit must be 0 (a retried agent would send load nobody planned)');
  const pod = s.template?.spec ?? {};
  if (pod.restartPolicy !== 'Never') problems.push('Job: restartPolicy must be Never');
  if (pod.subdomain !== svc.metadata.name) problems.push(`Job: pod subdomain ${pod.subdomain} must name the headless Service ${svc.metadata.name}`);
  if (svc.spec?.clusterIP !== 'None') problems.push('Service: must be headless (clusterIP: None)');
  const sel = svc.spec?.selector ?? {};
  const podLabels = s.template?.metadata?.labels ?? {};
  if (!Object.keys(sel).length || !Object.entries(sel).every(([k, v]) => podLabels[k] === v)) problems.push("Service: its selector must match the Job's pod labels");
  const c = pod.containers?.[0];
  const args: string[] = c?.args ?? [];
  if (args[0] !== 'agent') problems.push('Job: the container must run `faultline agent`');
  const coord = args[args.indexOf('--coordinator') + 1] ?? '';
  if (!coord.startsWith(`${job.metadata.name}-0.${svc.metadata.name}:`)) problems.push(`Job: --coordinator ${coord} must be agent 0's stable name ${job.metadata.name}-0.${svc.metadata.name}`);
  const port = Number(coord.split(':')[1]);
  if (!svc.spec?.ports?.some((p: { port: number }) => p.port === port)) problems.push(`Service: no port ${port} for agents to reach agent 0`);
  const agentsArg = Number(args[args.indexOf('--agents') + 1]);
  if (agentsArg !== s.completions) problems.push(`Job: --agents ${agentsArg} must equal completions ${s.completions}`);
  const file = args[1] ?? '';
  const cmRef = (pod.volumes ?? []).find((v: { configMap?: { name: string } }) => v.configMap)?.configMap?.name;
  if (cmRef !== cm.metadata.name) problems.push(`Job: the scenario volume must come from ConfigMap ${cm.metadata.name}`);
  if (!cm.data || !(file.split('/').pop()! in cm.data)) problems.push(`ConfigMap: no key for the scenario file ${file}`);
  return problems;
}
