// Every operation of the OpenAPI document has the house shape (src/lib/define-route.ts), checked on
// the generated document so a route added later is covered without editing this file: an
// operationId, exactly one declared tag, a summary, a description saying who may call it, the
// standard problem responses, the security requirement its access implies, and an Idempotency-Key
// header on every audited write (required where the route requires it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/lib/route.js'
import { createTestApp } from '../helpers/app.js'

interface Parameter { in: string, name: string, required?: boolean }
interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  description?: string
  security?: unknown[]
  parameters?: Parameter[]
  responses?: Record<string, unknown>
}
interface Doc { tags: Array<{ name: string }>, paths: Record<string, Record<string, Operation>> }

let app: App
let doc: Doc
beforeAll(async () => {
  app = await createTestApp()
  doc = app.swagger() as unknown as Doc
})
afterAll(async () => { await app.close() })

const toOpenApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

describe('route shape', () => {
  it('every operation: operationId, one declared tag, summary, description, problem responses, security', () => {
    const tags = new Set(doc.tags.map(t => t.name))
    const ids = new Set<string>()
    const failures: string[] = []
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`
        if (op.operationId === undefined) failures.push(`${where}: no operationId`)
        else if (ids.has(op.operationId)) failures.push(`${where}: duplicate operationId ${op.operationId}`)
        else ids.add(op.operationId)
        if (op.tags?.length !== 1 || !tags.has(op.tags[0] as string)) failures.push(`${where}: tags ${JSON.stringify(op.tags)}`)
        if ((op.summary ?? '').length < 5) failures.push(`${where}: no summary`)
        if ((op.description ?? '').length < 20) failures.push(`${where}: no description`)
        for (const code of ['4XX', '5XX']) if (op.responses?.[code] === undefined) failures.push(`${where}: no ${code} problem response`)
        if (op.security === undefined) failures.push(`${where}: no security requirement (public routes declare [])`)
      }
    }
    expect(failures).toEqual([])
  })

  it('every declared tag is used', () => {
    const used = new Set(Object.values(doc.paths).flatMap(ops => Object.values(ops).flatMap(op => op.tags ?? [])))
    expect(doc.tags.map(t => t.name).filter(t => !used.has(t))).toEqual([])
  })

  it('audited writes document Idempotency-Key (required where the route requires it)', () => {
    const failures: string[] = []
    for (const r of app.routeTable) {
      if (r.hidden || r.audit === undefined || 'skip' in r.audit) continue
      for (const method of ([] as string[]).concat(r.method)) {
        const op = doc.paths[toOpenApiPath(r.url)]?.[method.toLowerCase()]
        if (op === undefined) { failures.push(`${method} ${r.url}: not in the document`); continue }
        const key = op.parameters?.find(p => p.in === 'header' && p.name === 'idempotency-key')
        if (key === undefined) failures.push(`${method} ${r.url}: Idempotency-Key not documented`)
        else if ((key.required === true) !== (r.idempotency === 'required')) failures.push(`${method} ${r.url}: Idempotency-Key required=${String(key.required)}`)
      }
    }
    expect(failures).toEqual([])
  })
})
