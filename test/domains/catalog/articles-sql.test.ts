// The constant SQL texts of the article hot paths (run through rawRows, prepared once per
// connection), kept as .sql files so that a change to one shows up in review as a SQL diff.
// Regenerate after an intended change: npx vitest run test/domains/catalog/articles-sql.test.ts -u
import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ARTICLE_STATEMENTS } from '../../../src/domains/catalog/articles.service.js'

describe('article statements', () => {
  for (const [name, text] of Object.entries(ARTICLE_STATEMENTS)) {
    it(`${name} is the reviewed SQL text`, async () => {
      await expect(`${text}\n`).toMatchFileSnapshot(`./__snapshots__/${name}.sql`)
    })
  }

  it('has no snapshot left over from a statement that is gone', () => {
    const files = readdirSync(new URL('./__snapshots__/', import.meta.url)).filter(f => f.startsWith('article-'))
    expect(files.sort()).toEqual(Object.keys(ARTICLE_STATEMENTS).map(n => `${n}.sql`).sort())
  })
})
