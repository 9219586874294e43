// The test setup's embedded PostgreSQL lives in a ge-test-pg-* folder of the system temp directory:
// the teardown must remove it (every `npm test` used to leave an empty one behind).
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { expect, it } from 'vitest'
import type { TestProject } from 'vitest/node'
import setup from '../helpers/global-setup.js'

const testFolders = async (): Promise<Set<string>> => new Set((await readdir(tmpdir())).filter(n => n.startsWith('ge-test-pg-')))

it('removes its temp folder at teardown', async () => {
  const saved = { TEST_DATABASE_URL: process.env.TEST_DATABASE_URL, DATABASE_URL: process.env.DATABASE_URL }
  Reflect.deleteProperty(process.env, 'TEST_DATABASE_URL')
  Reflect.deleteProperty(process.env, 'DATABASE_URL')
  const before = await testFolders()
  const provided = new Map<string, unknown>()
  const project = { provide: (key: string, value: unknown) => { provided.set(key, value) } }
  let teardown: (() => Promise<void>) | undefined
  try {
    // the setup calls nothing on the project but provide()
    teardown = await setup(project as Pick<TestProject, 'provide'> as TestProject)
    const created = [...await testFolders()].filter(n => !before.has(n))
    expect(created).toHaveLength(1)
    expect(String(provided.get('dbServerUrl'))).toMatch(/^postgres:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/)
  } finally {
    await teardown?.()
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v
  }
  const left = [...await testFolders()].filter(n => !before.has(n))
  expect(left).toEqual([])
}, 120_000)
