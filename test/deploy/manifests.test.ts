// The deployment files against the Kubernetes API schemas and against the service itself:
// - every manifest in deploy/kubernetes validates against the OpenAPI schema of its kind (the
//   kubernetes-models package: the JSON schemas of the Kubernetes API, validated with Ajv — the
//   equivalent of kubeconform available from the npm registry);
// - every environment variable they (and deploy/compose.yaml) set is a setting of src/config.ts,
//   and loadConfig accepts each process's resolved environment in production;
// - probes, ports and the preStop drain match the service (the probed routes answer, the ports are
//   the ones the processes listen on), the pods run as non-root on a read-only root filesystem,
//   the migration Job migrates over the direct connection, and the Dockerfile agrees.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { Job } from 'kubernetes-models/batch/v1/Job'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigSchema, loadConfig } from '../../src/config.js'
import type { App } from '../../src/lib/route.js'
import { createTestApp } from '../helpers/app.js'

const DIR = 'deploy/kubernetes'
const SETTINGS = new Set(Object.keys(ConfigSchema.properties))

interface Manifest { apiVersion: string, kind: string, metadata: { name: string, labels?: Record<string, string> }, [k: string]: unknown }
interface EnvVar { name: string, value?: string, valueFrom?: { secretKeyRef?: { name: string, key: string }, configMapKeyRef?: { name: string, key: string } } }
interface Probe { httpGet: { path: string, port: string | number } }
interface Container {
  name: string
  command?: string[]
  ports?: Array<{ name?: string, containerPort: number }>
  env?: EnvVar[]
  envFrom?: Array<{ configMapRef?: { name: string }, secretRef?: { name: string } }>
  resources?: { requests?: Record<string, string>, limits?: Record<string, string> }
  startupProbe?: Probe
  livenessProbe?: Probe
  readinessProbe?: Probe
  lifecycle?: { preStop?: unknown }
  securityContext?: { readOnlyRootFilesystem?: boolean, allowPrivilegeEscalation?: boolean }
}
interface PodSpec { securityContext?: { runAsNonRoot?: boolean, runAsUser?: number }, containers: Container[], terminationGracePeriodSeconds?: number }
interface Workload extends Manifest { spec: { template: { metadata?: { labels?: Record<string, string> }, spec: PodSpec }, selector?: { matchLabels: Record<string, string> } } }

const validators: Record<string, (m: Manifest) => void> = {
  'v1/ConfigMap': m => { new ConfigMap(m).validate() },
  'v1/Secret': m => { new Secret(m).validate() },
  'v1/Service': m => { new Service(m).validate() },
  'apps/v1/Deployment': m => { new Deployment(m).validate() },
  'batch/v1/Job': m => { new Job(m).validate() },
  'autoscaling/v2/HorizontalPodAutoscaler': m => { new HorizontalPodAutoscaler(m).validate() },
  'policy/v1/PodDisruptionBudget': m => { new PodDisruptionBudget(m).validate() }
}

const files = readdirSync(DIR).filter(f => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()
const manifests: Array<{ file: string, m: Manifest }> = files.flatMap(file =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map(d => ({ file, m: d.toJS() as Manifest })))
const byKind = (kind: string, name?: string): Manifest => {
  const found = manifests.find(x => x.m.kind === kind && (name === undefined || x.m.metadata.name === name))
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ''}`)
  return found.m
}
const configMap = byKind('ConfigMap') as Manifest & { data: Record<string, string> }
const secret = byKind('Secret') as Manifest & { stringData: Record<string, string> }
const api = byKind('Deployment', 'gestion-emballages-api') as Workload
const worker = byKind('Deployment', 'gestion-emballages-worker') as Workload
const job = byKind('Job') as Workload
const container = (w: Workload): Container => w.spec.template.spec.containers[0] as Container

/** The environment a container sees: its envFrom ConfigMap, then its env (secret references resolved from the template). */
function resolvedEnv (c: Container): Record<string, string> {
  const env: Record<string, string> = {}
  for (const from of c.envFrom ?? []) {
    expect(from.configMapRef?.name).toBe(configMap.metadata.name)
    Object.assign(env, configMap.data)
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value
    const ref = e.valueFrom?.secretKeyRef
    if (ref !== undefined) {
      expect(ref.name).toBe(secret.metadata.name)
      expect(Object.keys(secret.stringData), `secret key ${ref.key}`).toContain(ref.key)
      env[e.name] = secret.stringData[ref.key] as string
    }
  }
  return env
}

describe('deploy/kubernetes', () => {
  it('every manifest validates against its Kubernetes API schema', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(8)
    for (const { file, m } of manifests) {
      const validate = validators[`${m.apiVersion}/${m.kind}`]
      expect(validate, `${file}: ${m.apiVersion} ${m.kind} has no validator here`).toBeDefined()
      expect(() => validate?.(m), file).not.toThrow()
    }
  })

  it('the schema check is real: a wrong type or a missing field is refused', () => {
    const broken = structuredClone(api)
    ;(container(broken).ports as Array<{ containerPort: unknown }>)[0] = { containerPort: 'http' }
    const validate = validators['apps/v1/Deployment'] as (m: Manifest) => void
    expect(() => { validate(broken) }).toThrow(/containerPort/)
    const noSelector = structuredClone(api) as Workload & { spec: { selector?: unknown } }
    delete noSelector.spec.selector
    expect(() => { validate(noSelector) }).toThrow(/selector/)
  })

  it('kustomization.yaml lists every manifest but the migration Job and the secret template', () => {
    const k = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]?.toJS() as { resources: string[] }
    expect([...k.resources].sort()).toEqual(files.filter(f => f !== 'migration-job.yaml' && f !== 'secret.template.yaml'))
  })

  it('every variable set is a setting of src/config.ts, and production config loads for each process', () => {
    const names = [...Object.keys(configMap.data), ...Object.keys(secret.stringData)]
    for (const w of [api, worker, job]) for (const e of container(w).env ?? []) names.push(e.name)
    expect(names.filter(n => !SETTINGS.has(n))).toEqual([])
    for (const w of [api, worker, job]) {
      const env = resolvedEnv(container(w))
      expect(env.NODE_ENV).toBe('production')
      expect(() => loadConfig(env), w.metadata.name).not.toThrow()
    }
    // the pods never get the schema owner's URL; the Job migrates through the direct connection
    for (const w of [api, worker]) expect((container(w).env ?? []).map(e => e.name)).not.toContain('DATABASE_OWNER_URL')
    const jobEnv = container(job).env ?? []
    expect(jobEnv.find(e => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.key).toBe('DATABASE_DIRECT_URL')
    expect(container(job).command?.join(' ')).toContain('dist/src/cli/migrate.js')
  })

  it('API: port, probes, drain and the Service agree with the configuration', () => {
    const env = resolvedEnv(container(api))
    const c = container(api)
    const port = c.ports?.find(p => p.name === 'http')?.containerPort
    expect(port).toBe(Number(env.PORT))
    expect(env.HOST).toBe('0.0.0.0')
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' })
    expect(c.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' })
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' })
    expect(c.lifecycle?.preStop).toBeDefined()
    // preStop (5 s) + the service's drain + its close fit in the grace period
    const grace = api.spec.template.spec.terminationGracePeriodSeconds ?? 30
    expect(grace * 1000).toBeGreaterThanOrEqual(5000 + Number(env.SHUTDOWN_DRAIN_MS) + 10_000)
    expect(env.DATABASE_PREPARED_STATEMENTS).toBe('false')
    expect(env.DATABASE_DIRECT_URL).not.toBe(env.DATABASE_URL)
    expect(env.WORKER_MODE).toBe('off')
    const svc = byKind('Service') as Manifest & { spec: { selector: Record<string, string>, ports: Array<{ targetPort: string }> } }
    expect(svc.spec.ports[0]?.targetPort).toBe('http')
    expect(api.spec.template.metadata?.labels).toMatchObject(svc.spec.selector)
    const hpa = byKind('HorizontalPodAutoscaler') as Manifest & { spec: { scaleTargetRef: { kind: string, name: string }, minReplicas: number } }
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: api.metadata.name })
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2)
    const pdb = byKind('PodDisruptionBudget') as Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }
    expect(api.spec.template.metadata?.labels).toMatchObject(pdb.spec.selector.matchLabels)
  })

  it('worker: runs dist/worker.mjs, probed on WORKER_HTTP_PORT', () => {
    const env = resolvedEnv(container(worker))
    const c = container(worker)
    expect(c.command?.join(' ')).toContain('dist/worker.mjs')
    expect(readFileSync('scripts/bundle.mjs', 'utf8')).toContain('dist/src/worker.js')
    expect((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.worker).toContain('dist/worker.mjs')
    expect(c.ports?.find(p => p.name === 'probes')?.containerPort).toBe(Number(env.WORKER_HTTP_PORT))
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'probes' })
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'probes' })
  })

  it('every pod: non-root, read-only root filesystem, no privilege escalation, resources requested', () => {
    for (const w of [api, worker, job]) {
      const spec = w.spec.template.spec
      expect(spec.securityContext?.runAsNonRoot, w.metadata.name).toBe(true)
      // the image's `node` user (Dockerfile: USER node)
      expect(spec.securityContext?.runAsUser).toBe(1000)
      for (const c of spec.containers) {
        expect(c.securityContext?.readOnlyRootFilesystem, `${w.metadata.name}/${c.name}`).toBe(true)
        expect(c.securityContext?.allowPrivilegeEscalation).toBe(false)
        expect(c.resources?.requests?.cpu).toBeDefined()
        expect(c.resources?.requests?.memory).toBeDefined()
        expect(c.resources?.limits?.memory).toBeDefined()
      }
    }
  })

  it('the Dockerfile agrees: non-root node user, the configured port, the bundled entry', () => {
    const docker = readFileSync('Dockerfile', 'utf8')
    expect(docker).toMatch(/^USER node$/m)
    expect(docker).toMatch(new RegExp(`^EXPOSE ${configMap.data.PORT}$`, 'm'))
    expect(docker).toMatch(/CMD \[.*"dist\/server\.mjs"\]/)
    expect(docker).toContain('dist/src/cli/migrate.js')
  })
})

describe('deploy/compose.yaml', () => {
  interface ComposeService { environment?: Record<string, string>, command?: string[], deploy?: { replicas?: number }, ports?: string[] }
  const compose = parseAllDocuments(readFileSync('deploy/compose.yaml', 'utf8'), { merge: true })[0]?.toJS({ maxAliasCount: 100 }) as { services: Record<string, ComposeService> }

  it('PostgreSQL, PgBouncer, Redis, the migrations, three API replicas and a worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'migrate', 'pgbouncer', 'postgres', 'redis', 'worker'])
    expect(compose.services.api?.deploy?.replicas).toBe(3)
    expect(compose.services.worker?.command?.join(' ')).toContain('dist/worker.mjs')
    expect(readFileSync('deploy/pgbouncer/pgbouncer.ini', 'utf8')).toMatch(/^pool_mode = transaction$/m)
  })

  it('every variable is a setting; production config loads; the pooled and direct URLs go where they should', () => {
    for (const name of ['api', 'worker', 'migrate']) {
      const env = compose.services[name]?.environment ?? {}
      expect(Object.keys(env).filter(n => !SETTINGS.has(n)), name).toEqual([])
      expect(() => loadConfig(env), name).not.toThrow()
      expect(new URL(env.DATABASE_DIRECT_URL ?? '').hostname).toBe('postgres')
    }
    const apiEnv = compose.services.api?.environment ?? {}
    expect(new URL(apiEnv.DATABASE_URL ?? '').hostname).toBe('pgbouncer')
    expect(apiEnv.DATABASE_PREPARED_STATEMENTS).toBe('false')
    expect(new URL(compose.services.migrate?.environment?.DATABASE_URL ?? '').hostname).toBe('postgres')
  })
})

describe('the probed routes', () => {
  let app: App
  beforeAll(async () => { app = await createTestApp() })
  afterAll(async () => { await app.close() })

  it('answer on the paths the manifests probe', async () => {
    for (const path of new Set([container(api), container(worker)].flatMap(c => [c.livenessProbe, c.readinessProbe, c.startupProbe]).flatMap(p => p === undefined ? [] : [p.httpGet.path]))) {
      const r = await app.inject({ method: 'GET', url: path })
      expect(r.statusCode, `${path}: ${r.body}`).toBe(200)
    }
  })
})
