import { spawn, spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { serveCommand } from '../../src/cli/serve-command.js';
import { parseDuration } from '../../src/options/option-parsers.js';
import { connect, startServer } from '../helpers/harness.js';
import { ROOT, ensureBuilt, freePort, killAll, startServe } from '../cli/cli-helpers.js';

/**
 * deploy/k8s (no cluster here): every object against the Kubernetes schemas published on npm
 * (kubernetes-models, @kubernetes-models/prometheus-operator), field names against the models'
 * TypeScript definitions (the schemas themselves accept a misspelt field), and the cross-references
 * a cluster would only reveal at run time, checked against a real serve where they concern it.
 */

const K8S = join(ROOT, 'deploy', 'k8s');
/** Time past PAUSE + DRAIN_TIMEOUT for the last closing handshakes and the Redis clean-up. */
const MIN_GRACE_MARGIN_S = 10;
/** Files in deploy/k8s that are not Kubernetes objects to apply. */
const NOT_APPLIED = ['kustomization.yaml', 'prometheus-adapter-rules.yaml'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
interface Loaded {
  file: string;
  object: K8sObject;
}
interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string; group?: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

const parseYaml = parseYamlDocuments;
let kustomization: { namespace: string; resources: string[]; images: { name: string; newName: string; newTag: string }[] };
let loaded: Loaded[];
let deployment: IDeployment;
let service: IService;
let hpa: IHorizontalPodAutoscaler;
let pdb: IPodDisruptionBudget;
let networkPolicy: INetworkPolicy;
let serviceMonitor: IServiceMonitor;
let secret: ISecret;

const read = (file: string) => readFileSync(join(K8S, file), 'utf8');
const one = <T>(kind: string): T => {
  const found = loaded.filter((l) => l.object.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!.object as unknown as T;
};
const container = () => deployment.spec!.template.spec!.containers[0]!;
const podLabels = () => deployment.spec!.template.metadata!.labels!;
const envValue = (name: string) => container().env?.find((e) => e.name === name)?.value;
/** A label selector's matchLabels, which must all be on `labels` (no matchExpressions used here). */
const selects = (selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined, labels: Record<string, string>) => {
  expect(selector?.matchExpressions, 'matchExpressions are not cross-checked; use matchLabels').toBeUndefined();
  const wanted = Object.entries(selector?.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => labels[k] === v);
};

beforeAll(async () => {
  kustomization = parseYaml(read('kustomization.yaml'))[0] as unknown as typeof kustomization;
  loaded = kustomization.resources.flatMap((file) => parseYaml(read(file)).map((object) => ({ file, object: object as unknown as K8sObject })));
  deployment = one('Deployment');
  service = one('Service');
  hpa = one('HorizontalPodAutoscaler');
  pdb = one('PodDisruptionBudget');
  networkPolicy = one('NetworkPolicy');
  serviceMonitor = one('ServiceMonitor');
  secret = one('Secret');
});
afterAll(killAll);

describe('deploy/k8s against the Kubernetes schemas', () => {
  it('the kustomization lists every manifest, and has only known fields', () => {
    const yamlFiles = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && !NOT_APPLIED.includes(f));
    expect([...kustomization.resources].sort()).toEqual(yamlFiles.sort());
    expect(Object.keys(kustomization).filter((k) => !['apiVersion', 'kind', 'namespace', 'resources', 'images'].includes(k))).toEqual([]);
    expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
  });

  it('every object validates against its model (kubernetes-models, prometheus-operator)', async () => {
    for (const { file, object } of loaded) {
      const Model = (await import(modelModule(object)))[object.kind] as new (data: unknown) => { validate(): void };
      expect(() => new Model(object).validate(), `${file} ${object.kind}/${object.metadata.name}`).not.toThrow();
    }
  });

  it('no object has a field its model does not define (a misspelt field fails)', () => {
    expect(unknownFields(loaded)).toEqual([]);
  }, 60_000);

  it('kubectl kustomize builds the same objects into the namespace (when kubectl is installed)', (ctx) => {
    if (spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0) {
      console.warn('\n!!! kubectl not found: SKIPPING the `kubectl kustomize deploy/k8s` build check !!!\n');
      return ctx.skip();
    }
    const build = spawnSync('kubectl', ['kustomize', K8S], { encoding: 'utf8' });
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    const built = parseYaml(build.stdout) as unknown as K8sObject[];
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
    expect(built.map(key).sort()).toEqual(loaded.map((l) => key(l.object)).sort());
    for (const o of built) expect((o.metadata as { namespace?: string }).namespace).toBe(kustomization.namespace);
    const image = (built.find((o) => o.kind === 'Deployment') as unknown as IDeployment).spec!.template.spec!.containers[0]!.image;
    expect(image).toBe(`${kustomization.images[0]!.newName}:${kustomization.images[0]!.newTag}`);
  }, 60_000);
});

describe('deploy/k8s cross-references', () => {
  it('selectors match the pod labels, and the HPA targets the Deployment', () => {
    const labels = podLabels();
    expect(selects(deployment.spec!.selector, labels), 'Deployment selector').toBe(true);
    expect(selects({ matchLabels: service.spec!.selector! }, labels), 'Service selector').toBe(true);
    expect(selects(pdb.spec!.selector, labels), 'PodDisruptionBudget selector').toBe(true);
    expect(selects(networkPolicy.spec!.podSelector, labels), 'NetworkPolicy podSelector').toBe(true);
    for (const c of deployment.spec!.template.spec!.topologySpreadConstraints ?? []) {
      expect(selects(c.labelSelector, labels), `topology spread on ${c.topologyKey}`).toBe(true);
    }
    expect(selects(serviceMonitor.spec.selector, service.metadata!.labels!), 'ServiceMonitor selects the Service').toBe(true);
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name });
    // The HPA owns the replica count; one in the Deployment would be reset by every apply.
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(hpa.spec!.minReplicas).toBeGreaterThan(pdb.spec!.maxUnavailable as number);
  });

  it('ports: Service, probes, NetworkPolicy and ServiceMonitor name container ports; PORT and ADMIN_PORT match them', () => {
    const ports = new Map((container().ports ?? []).map((p) => [p.name!, p.containerPort]));
    expect(ports.get('http')).toBe(Number(envValue('PORT')));
    expect(ports.get('admin')).toBe(Number(envValue('ADMIN_PORT')));
    for (const p of service.spec!.ports!) expect(ports.has(p.targetPort as string), `Service targetPort ${p.targetPort}`).toBe(true);
    expect(ports.has(container().readinessProbe!.httpGet!.port as string)).toBe(true);
    for (const rule of networkPolicy.spec!.ingress!) {
      for (const p of rule.ports!) expect(ports.has(p.port as string), `NetworkPolicy port ${p.port}`).toBe(true);
    }
    // Prometheus scrapes the Service port the ServiceMonitor names, which leads to the admin port.
    const scraped = service.spec!.ports!.find((p) => p.name === serviceMonitor.spec.endpoints![0]!.port);
    expect(scraped?.targetPort).toBe('admin');
    expect(serviceMonitor.spec.endpoints![0]!.path).toBe('/metrics');
  });

  it('every environment variable, the Secret keys included, is one serve reads', () => {
    const known = new Set(serveCommand().options.map((o) => (o as { envVar?: string }).envVar).filter(Boolean));
    const names = (container().env ?? []).map((e) => e.name);
    const fromSecrets = (container().envFrom ?? []).map((source) => {
      expect(source.secretRef?.name).toBe(secret.metadata!.name);
      return Object.keys({ ...secret.stringData, ...secret.data });
    });
    expect([...names, ...fromSecrets.flat()].filter((n) => !known.has(n))).toEqual([]);
    expect(fromSecrets.flat().filter((k) => k === 'REDIS_URL' || k === 'REDIS_CLUSTER')).toHaveLength(1);
    expect(container().args).toEqual(['serve']);
  });

  it('shutdown: terminationGracePeriodSeconds covers the preStop pause, DRAIN_TIMEOUT and a margin', () => {
    const pause = preStopPauseSeconds();
    const drain = parseDuration(envValue('DRAIN_TIMEOUT')!) / 1000;
    const grace = deployment.spec!.template.spec!.terminationGracePeriodSeconds!;
    expect(grace, `grace ${grace} s >= pause ${pause} s + drain ${drain} s + ${MIN_GRACE_MARGIN_S} s`).toBeGreaterThanOrEqual(pause + drain + MIN_GRACE_MARGIN_S);
  });

  it('security: the image user, no root, read-only root filesystem, no capabilities, resources set', () => {
    const pod = deployment.spec!.template.spec!;
    const c = container();
    const user = /^USER\s+(\d+):(\d+)\s*$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(user, 'Dockerfile USER uid:gid').not.toBeNull();
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user![1]), runAsGroup: Number(user![2]) });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // The CPU target of the HPA is relative to the request.
    expect(c.resources?.requests).toHaveProperty('cpu');
    expect(c.resources?.requests).toHaveProperty('memory');
    expect(c.resources?.limits).toHaveProperty('memory');
  });

  it('the image the kustomization deploys is the container image, at package.json version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(kustomization.images).toEqual([expect.objectContaining({ name: container().image, newTag: version })]);
  });
});

describe('deploy/k8s against a real serve', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  it('serve starts with the Deployment env, serves /metrics on the admin port only, and drains over DRAIN_TIMEOUT', async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const env = Object.fromEntries((container().env ?? []).map((e) => [e.name, e.value!]));
    const serve = await startServe(container().args!.slice(1), {
      env: { ...env, PORT: String(port), ADMIN_PORT: String(adminPort), HOST: '127.0.0.1' },
    });
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${adminPort}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    serve.child.kill('SIGTERM');
    const draining = await serve.waitForLog((l) => l.event === 'draining');
    expect(draining.windowMs).toBe(parseDuration(env.DRAIN_TIMEOUT!));
    expect(await serve.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('the HPA custom metric is served by the adapter rule from a gauge serve exposes on /metrics', async () => {
    const rules = (parseYaml(read('prometheus-adapter-rules.yaml'))[0] as unknown as { rules: AdapterRule[] }).rules;
    expect(rules).toHaveLength(1);
    const rule = rules[0]!;
    expect(unknownAdapterFields(rule)).toEqual([]);
    const pods = hpa.spec!.metrics!.find((m) => m.type === 'Pods')!.pods!;
    const series = /^([a-zA-Z_:][\w:]*)\{(.*)\}$/.exec(rule.seriesQuery);
    expect(series, 'seriesQuery metric{matchers}').not.toBeNull();
    const [, metric, matchers] = series!;
    expect(metric!.replace(new RegExp(rule.name.matches), rule.name.as), 'name the adapter serves').toBe(pods.metric.name);
    // A Pods metric needs the series mapped to their pod and namespace.
    expect(rule.resources.overrides).toMatchObject({ pod: { resource: 'pod' }, namespace: { resource: 'namespace' } });
    expect(matchers).toContain(`service="${service.metadata!.name}"`);
    for (const part of ['<<.Series>>', '<<.LabelMatchers>>', '<<.GroupBy>>']) expect(rule.metricsQuery).toContain(part);
    expect(hpa.spec!.metrics!.map((m) => m.type).sort()).toEqual(['Pods', 'Resource']);
    // Pods must scale out before they refuse connections (1013 past MAX_CONNECTIONS).
    expect(Number(pods.target.averageValue)).toBeLessThan(Number(envValue('MAX_CONNECTIONS')));

    const server = await startServer({ adminPort: 0 });
    await connect(server);
    const text = await (await fetch(`http://127.0.0.1:${server.adminAddress!.port}/metrics`)).text();
    expect(text).toContain(`# TYPE ${metric} gauge`);
    expect(text).toMatch(new RegExp(`^${metric} 1$`, 'm'));
  });

  it('the liveness probe script: 0 on 200 and on 503 (draining), the readiness variant 1 on 503', async () => {
    const probe = container().livenessProbe!.exec!.command!;
    expect(probe.slice(0, 2)).toEqual(['node', '/app/deploy/container/healthcheck.mjs']);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^WORKDIR \/app$[\s\S]*^COPY deploy\/container\/healthcheck\.mjs \.\/deploy\/container\/$/m);
    const script = join(ROOT, 'deploy', 'container', 'healthcheck.mjs');
    const run = (port: number, args: string[]) =>
      new Promise<number | null>((resolve) => spawn(process.execPath, [script, ...args], { env: { ...process.env, PORT: String(port) } }).once('exit', resolve));
    const server = await startServer({ drainTimeoutMs: 60_000 });
    const { port } = server.address;
    expect(await run(port, probe.slice(2))).toBe(0);
    expect(await run(port, [])).toBe(0);
    await connect(server); // keeps the drain going
    void server.drain();
    expect(await run(port, probe.slice(2))).toBe(0);
    expect(await run(port, [])).toBe(1);
    expect(await run(await freePort(), probe.slice(2))).toBe(1);
  }, 30_000);
});

/** The preStop pause in seconds: an exec of `node -e "setTimeout(() => {}, MS)"` (no shell in the image). */
function preStopPauseSeconds(): number {
  const command = container().lifecycle?.preStop?.exec?.command ?? [];
  expect(command.slice(0, 2)).toEqual(['node', '-e']);
  const ms = /^setTimeout\(\(\) => \{\}, (\d+)\)$/.exec(command[2] ?? '');
  expect(ms, `preStop script "${command[2]}"`).not.toBeNull();
  return Number(ms![1]) / 1000;
}

/** The npm module holding the model of an object: kubernetes-models, or prometheus-operator's CRDs. */
function modelModule(object: K8sObject): string {
  const groupVersion = object.apiVersion;
  if (groupVersion.startsWith('monitoring.coreos.com/')) return `@kubernetes-models/prometheus-operator/${groupVersion}/${object.kind}`;
  return `kubernetes-models/${groupVersion}/${object.kind}`;
}

/**
 * Fields the models do not define. The published JSON schemas allow unknown properties, so each
 * object is written as a TypeScript literal of its model's interface (I<Kind>) and compiled:
 * TypeScript's excess-property check rejects a misspelt field at any depth.
 */
function unknownFields(objects: readonly Loaded[]): string[] {
  const file = join(ROOT, 'test', 'deploy', '__k8s_manifests__.ts');
  const starts: number[] = [];
  let source = '';
  objects.forEach(({ object }, i) => {
    source += `import type { I${object.kind} as T${i} } from ${JSON.stringify(modelModule(object))};\n`;
  });
  objects.forEach(({ object }, i) => {
    starts.push(source.split('\n').length - 1);
    source += `export const m${i}: T${i} = ${JSON.stringify(object, null, 2)};\n`;
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest));
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  const lines = source.split('\n');
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== file || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const index = starts.findLastIndex((s) => s <= line);
    const where = index >= 0 ? `${objects[index]!.file} ${objects[index]!.object.kind}: ` : '';
    return `${where}${message} (at ${lines[line]!.trim()})`;
  });
}

/** prometheus-adapter rule fields (its config format has no published schema to check against). */
function unknownAdapterFields(rule: AdapterRule): string[] {
  const allowed: Record<string, string[]> = {
    '': ['seriesQuery', 'seriesFilters', 'resources', 'name', 'metricsQuery'],
    resources: ['overrides', 'template'],
    name: ['matches', 'as'],
  };
  const unknown: string[] = [];
  for (const [path, fields] of Object.entries(allowed)) {
    const node = (path === '' ? rule : (rule as unknown as Record<string, object>)[path]) ?? {};
    unknown.push(...Object.keys(node).filter((k) => !fields.includes(k)).map((k) => (path ? `${path}.${k}` : k)));
  }
  for (const [label, target] of Object.entries(rule.resources.overrides ?? {})) {
    unknown.push(...Object.keys(target).filter((k) => !['resource', 'group'].includes(k)).map((k) => `resources.overrides.${label}.${k}`));
  }
  return unknown;
}

/** Every document of a YAML file, as JSON values; a document with an error fails the test. */
function parseYamlDocuments(text: string): Json[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(String(doc.errors[0]));
    return doc.toJS() as Json;
  });
}
