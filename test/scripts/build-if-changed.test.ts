// `npm start` rebuilds only when an input changed (scripts/build-if-changed.mjs): the decision is
// taken from a content hash of src/, db/, the build configuration and the lockfile, kept next to the
// outputs after a successful build.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

interface BuildScript {
  inputsHash: (root: string) => string
  buildNeeded: (root: string, hash?: string) => string | undefined
  writeStamp: (root: string, hash: string) => void
}

const specifier = new URL('../../scripts/build-if-changed.mjs', import.meta.url).href
let script: BuildScript
let root = ''
beforeAll(async () => {
  script = await import(specifier)
  root = await mkdtemp(join(tmpdir(), 'ge-build-if-changed-'))
  await mkdir(join(root, 'src', 'lib'), { recursive: true })
  await mkdir(join(root, 'db', 'migrations'), { recursive: true })
  await writeFile(join(root, 'src', 'server.ts'), 'export const a = 1\n')
  await writeFile(join(root, 'src', 'lib', 'x.ts'), 'export const x = 1\n')
  await writeFile(join(root, 'db', 'migrations', '0001.ts'), '// m\n')
  await writeFile(join(root, 'package.json'), '{"name":"x"}\n')
  await writeFile(join(root, 'package-lock.json'), '{}\n')
})
afterAll(async () => { await rm(root, { recursive: true, force: true }) })

const outputs = async (): Promise<void> => {
  await mkdir(join(root, 'dist'), { recursive: true })
  await writeFile(join(root, 'dist', 'server.mjs'), '')
  await writeFile(join(root, 'dist', 'worker.mjs'), '')
  await mkdir(join(root, 'dist', 'cli'), { recursive: true })
  await writeFile(join(root, 'dist', 'cli', 'migrate.mjs'), '')
}

describe('build-if-changed', () => {
  it('builds the first time, then only when an input changed; a touched file alone changes nothing', async () => {
    expect(script.buildNeeded(root)).toBe('first build')
    await outputs()
    script.writeStamp(root, script.inputsHash(root))
    expect(script.buildNeeded(root)).toBeUndefined()

    const later = new Date(Date.now() + 60_000)
    await utimes(join(root, 'src', 'server.ts'), later, later)
    expect(script.buildNeeded(root)).toBeUndefined()

    for (const [file, content] of [['src/lib/x.ts', 'export const x = 2\n'], ['db/migrations/0002.ts', '// new\n'], ['package-lock.json', '{"v":2}\n'], ['tsconfig.build.json', '{}\n']]) {
      const before = script.inputsHash(root)
      await writeFile(join(root, file ?? ''), content ?? '')
      expect(script.buildNeeded(root), file).toBe('sources changed')
      expect(script.inputsHash(root)).not.toBe(before)
      script.writeStamp(root, script.inputsHash(root))
      expect(script.buildNeeded(root)).toBeUndefined()
    }
  })

  it('rebuilds when an output is missing', async () => {
    await outputs()
    script.writeStamp(root, script.inputsHash(root))
    await rm(join(root, 'dist', 'worker.mjs'))
    expect(script.buildNeeded(root)).toBe('first build')
  })

  it('ignores files outside its inputs (tests, data, the outputs themselves)', async () => {
    await outputs()
    script.writeStamp(root, script.inputsHash(root))
    await mkdir(join(root, 'test'), { recursive: true })
    await writeFile(join(root, 'test', 'a.test.ts'), '// t\n')
    await writeFile(join(root, 'dist', 'server.mjs'), '// rebuilt elsewhere\n')
    expect(script.buildNeeded(root)).toBeUndefined()
  })
})
