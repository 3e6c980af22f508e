/** `faultline k8s SCENARIO --agents N`: writes the manifests of a scale-out run (an Indexed Job, a headless Service, a ConfigMap). */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import YAML from 'yaml';
import { loadScenarioFile } from '../config/scenario.ts';
import { UsageError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { checkManifests, checkName, k8sManifests } from '../agents/k8s.ts';
import { parseAgents, parseFlagDuration } from './run.ts';

interface K8sFlags {
  agents?: string;
  image?: string;
  namespace?: string;
  name?: string;
  cpu?: string;
  memory?: string;
  workers?: string;
  resultsPvc?: string;
  maxSkew?: string;
  joinTimeout?: string;
  out?: string;
}

export function register(program: Command): void {
  program
    .command('k8s')
    .argument('<scenario>', 'scenario file (.yaml, .json, .js, .ts), put in a ConfigMap as it is')
    .description('write Kubernetes manifests that run the scenario from N agents (an Indexed Job)')
    .option('--agents <n>', 'agents (pods) sharing the load', '2')
    .option('--image <image>', 'container image with faultline on its PATH', `faultline:${VERSION}`)
    .option('--namespace <ns>', 'namespace for every object (default: kubectl\'s current one)')
    .option('--name <name>', 'name of the Job, its Service and ConfigMap', 'faultline')
    .option('--cpu <cores>', 'CPU per agent, requests = limits (e.g. 2 or 1500m)')
    .option('--memory <size>', 'memory per agent, requests = limits (e.g. 1Gi)')
    .option('--workers <n>', 'load worker threads per agent (default: CPU − 1 when --cpu is given)')
    .option('--results-pvc <claim>', 'PersistentVolumeClaim mounted at /results, to keep agent 0\'s result.json after the pod ends')
    .option('--max-skew <duration>', 'largest clock offset between agents the run accepts (default 50ms)')
    .option('--join-timeout <duration>', 'how long the start barrier waits for every pod (default 5m)')
    .option('-o, --out <file>', 'write the manifests here instead of stdout')
    .action(async (file: string, f: K8sFlags) => {
      const agents = parseAgents(f.agents)!;
      const name = f.name ?? 'faultline';
      const problems: string[] = [];
      const bad = checkName(name);
      if (bad) problems.push(bad);
      if (f.namespace !== undefined && checkName(f.namespace)) problems.push(`--namespace: expected a DNS label, got ${JSON.stringify(f.namespace)}`);
      if (f.cpu !== undefined && !/^\d+(\.\d+)?m?$/.test(f.cpu)) problems.push(`--cpu: expected cores like "2" or "1500m", got ${JSON.stringify(f.cpu)}`);
      if (f.memory !== undefined && !/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(f.memory)) problems.push(`--memory: expected a size like "1Gi", got ${JSON.stringify(f.memory)}`);
      const workers = f.workers === undefined ? undefined : Number(f.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) problems.push(`--workers: expected a whole number ≥ 1, got ${JSON.stringify(f.workers)}`);
      if (f.maxSkew !== undefined) parseFlagDuration(f.maxSkew, '--max-skew');
      if (f.joinTimeout !== undefined) parseFlagDuration(f.joinTimeout, '--join-timeout');
      if (problems.length) throw new UsageError(problems);
      // The scenario must be valid here, not in a pod.
      await loadScenarioFile(file);
      const scenarioText = await readFile(file, 'utf8');
      const manifests = k8sManifests({
        name,
        namespace: f.namespace,
        agents,
        image: f.image ?? `faultline:${VERSION}`,
        scenarioName: basename(file),
        scenarioText,
        cpu: f.cpu,
        memory: f.memory,
        workers,
        resultsClaim: f.resultsPvc,
        maxSkew: f.maxSkew,
        joinTimeout: f.joinTimeout,
      });
      const wrong = checkManifests(manifests);
      if (wrong.length) throw new Error(`generated manifests break their own rules: ${wrong.join('; ')}`);
      const text = manifests.map((m) => YAML.stringify(m, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
      if (f.out) {
        await writeFile(f.out, text);
        process.stderr.write(`wrote ${f.out}: ConfigMap, headless Service and Indexed Job "${name}" (${agents} agents)\nrun it:  kubectl apply -f ${f.out}\n`);
      } else process.stdout.write(text);
    });
}
