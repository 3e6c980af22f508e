import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { checkManifests, k8sManifests, type Manifest } from '../../src/agents/k8s.ts';
import { cli } from '../helpers/run.ts';

const SCENARIO = join(import.meta.dirname, '../fixtures/scenarios/same.yaml');

/** Validates each object against the Kubernetes API schema (kubernetes-models' validate()). */
function validateAgainstApi(objs: readonly Record<string, any>[]): void {
  for (const o of objs) {
    const model = o.kind === 'Job' ? new Job(o as never) : o.kind === 'Service' ? new Service(o as never) : o.kind === 'ConfigMap' ? new ConfigMap(o as never) : undefined;
    expect(model, `unexpected kind ${o.kind}`).toBeDefined();
    model!.validate();
  }
}

describe('faultline k8s', () => {
  it('writes a ConfigMap, a headless Service and an Indexed Job that validate against the API schema and read back right', async () => {
    const dir = await mkdtemp(join(tmpdir(), `faultline-h16-k8s-${process.pid}-`));
    try {
      const out = join(dir, 'agents.yaml');
      const r = await cli(['k8s', SCENARIO, '--agents', '4', '--image', 'registry.invalid/faultline:test', '--namespace', 'load', '--name', 'shop-load', '--cpu', '2', '--memory', '1Gi', '-o', out], { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      const docs = YAML.parseAllDocuments(await readFile(out, 'utf8')).map((d) => d.toJS() as Manifest);
      expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'Service', 'Job']);
      validateAgainstApi(docs);
      expect(checkManifests(docs)).toEqual([]);

      const [cm, svc, job] = docs as any[];
      for (const d of docs) expect(d.metadata.namespace).toBe('load');
      // The Job: Indexed, N at once, never retried.
      expect(job.apiVersion).toBe('batch/v1');
      expect(job.spec.completionMode).toBe('Indexed');
      expect(job.spec.completions).toBe(4);
      expect(job.spec.parallelism).toBe(4);
      expect(job.spec.backoffLimit).toBe(0);
      // The headless Service: agent 0 is <job>-0.<service>.
      expect(svc.spec.clusterIP).toBe('None');
      expect(svc.metadata.name).toBe('shop-load');
      const pod = job.spec.template.spec;
      expect(pod.subdomain).toBe('shop-load');
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(job.spec.template.metadata.labels[k]).toBe(v);
      // The agent command: faultline agent <scenario from the ConfigMap> --agents N --coordinator <agent 0's stable name>.
      const c = pod.containers[0];
      expect(c.image).toBe('registry.invalid/faultline:test');
      expect(c.command).toEqual(['faultline']);
      expect(c.args.slice(0, 6)).toEqual(['agent', '/scenario/same.yaml', '--agents', '4', '--coordinator', 'shop-load-0.shop-load:7070']);
      expect(c.args).toContain('--listen');
      // The index comes from Kubernetes (JOB_COMPLETION_INDEX), never from the manifest.
      expect(c.args).not.toContain('--index');
      expect(c.resources.limits).toEqual({ cpu: '2', memory: '1Gi' });
      expect(c.args[c.args.indexOf('--workers') + 1]).toBe('1');
      expect(cm.data['same.yaml']).toBe(await readFile(SCENARIO, 'utf8'));
      expect(pod.volumes.find((v: any) => v.name === 'scenario').configMap.name).toBe('shop-load');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the rules the API schema misses are checked: Indexed needs completions, parallelism = completions, headless, no retries', () => {
    const good = k8sManifests({ name: 'fl', agents: 3, image: 'x', scenarioName: 's.yaml', scenarioText: 'a: 1' });
    expect(checkManifests(good)).toEqual([]);
    const job = () => good.find((m) => m.kind === 'Job') as any;
    const svc = () => good.find((m) => m.kind === 'Service') as any;
    const mutate = (f: (j: any, s: any) => void): string[] => {
      const copy = structuredClone(good);
      f(copy.find((m) => m.kind === 'Job'), copy.find((m) => m.kind === 'Service'));
      // Still valid for the API schema: only our rules catch these.
      validateAgainstApi(copy);
      return checkManifests(copy);
    };
    expect(job().spec.completions).toBe(3);
    expect(mutate((j) => delete j.spec.completions).join()).toMatch(/Indexed Job needs completions/);
    expect(mutate((j) => (j.spec.parallelism = 2)).join()).toMatch(/parallelism must equal completions/);
    expect(mutate((j) => (j.spec.backoffLimit = 6)).join()).toMatch(/backoffLimit must be 0/);
    expect(mutate((_, s) => delete s.spec.clusterIP).join()).toMatch(/headless/);
    expect(mutate((j) => (j.spec.template.spec.subdomain = 'other')).join()).toMatch(/subdomain/);
    expect(mutate((j) => (j.spec.completionMode = 'NonIndexed')).join()).toMatch(/Indexed/);
    expect(svc().spec.publishNotReadyAddresses).toBe(true);
    // And the API schema itself bites: a wrong type or an unknown completion mode fails validate().
    const broken = structuredClone(job());
    broken.spec.completions = 'three';
    expect(() => new Job(broken).validate()).toThrow();
    const noContainers = structuredClone(job());
    delete noContainers.spec.template.spec.containers;
    expect(() => new Job(noContainers).validate()).toThrow();
  });

  it('bad input: one line each, exit 2', async () => {
    const r = await cli(['k8s', SCENARIO, '--agents', '0'], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--agents/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const r2 = await cli(['k8s', SCENARIO, '--name', 'Bad_Name'], { timeoutMs: 30_000 });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--name/);
    const r3 = await cli(['k8s', join(import.meta.dirname, '../fixtures/scenarios/bad.yaml')], { timeoutMs: 30_000 });
    expect(r3.code).toBe(2);
  });
});
