// Articles: search (code prefix, full text, trigram), keyset pages ordered by code, and the
// staff-only writes. Row scope: a station sees active articles only, a supplier only the articles
// it offers; anything else is a 404.
import { sql, type ExpressionBuilder, type SqlBool, type Expression } from 'kysely'
import type { Db } from '../../db/index.js'
import { isoMs, rawRows } from '../../db/prepared.js'
import type { Database } from '../../db/schema.js'
import { decodeCursor, page } from '../../lib/cursor.js'
import type { Actor } from '../../lib/permissions.js'
import { notFound, problem } from '../../lib/problems.js'
import type { Article, ArticleCreate, ArticleListInput, ArticlePatch } from './catalog.schemas.js'

const COLUMNS = ['id', 'code', 'name', 'description', 'category', 'baseUnit', 'material', 'dimensions', 'vatRate', 'isActive', 'version', 'createdAt', 'updatedAt'] as const

type ArticleEb = ExpressionBuilder<Database, 'articles'>

/** The caller's row scope on articles (PRODUCT.md §2.1). */
function scope (eb: ArticleEb, actor: Actor): Expression<SqlBool> {
  if (actor.role === 'STATION') return eb('articles.isActive', '=', true)
  if (actor.role === 'SUPPLIER') {
    return eb.exists(eb.selectFrom('offers').select(sql`1`.as('one'))
      .whereRef('offers.articleId', '=', 'articles.id').where('offers.supplierId', '=', actor.organizationId))
  }
  return sql<boolean>`true`
}

/**
 * `q` matches a code prefix (a byte-wise range on the text_pattern_ops index, which also works in
 * generic plans of prepared statements, unlike LIKE $1), full-text words as prefixes on the
 * generated tsvector, or a fragment of the name (3+ characters, ILIKE served by the trigram index).
 * Each branch has its own index, so PostgreSQL combines them with a BitmapOr. Fuzzy similarity
 * (`%`) is left out on purpose: with code-like queries it matched unrelated names.
 */
function searchCondition (q: string): ReturnType<typeof sql<boolean>> {
  const term = q.trim()
  const prefix = term.toUpperCase()
  const words = term.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
  const parts = [sql`(articles.code ~>=~ ${prefix} AND articles.code ~<~ ${prefix + '~'})`]
  if (words.length > 0) parts.push(sql`articles.search @@ to_tsquery('simple', ${words.slice(0, 8).map(w => `${w}:*`).join(' & ')})`)
  if (term.length >= 3) {
    const like = '%' + term.replace(/[\\%_]/g, m => '\\' + m) + '%'
    parts.push(sql`articles.name ILIKE ${like}`)
  }
  return sql<boolean>`(${sql.join(parts, sql` OR `)})`
}

export async function listArticles (db: Db, actor: Actor, input: ArticleListInput): Promise<{ items: Article[], nextCursor: string | null }> {
  const limit = input.limit ?? 50
  // a station never sees inactive articles, whatever it asks for
  if (actor.role === 'STATION' && input.active === false) return { items: [], nextCursor: null }
  // a supplier's view is its own offers; it learns nothing about another supplier's range
  if (actor.role === 'SUPPLIER' && input.supplierId !== undefined && input.supplierId !== actor.organizationId) return { items: [], nextCursor: null }
  let query = db.selectFrom('articles').select(COLUMNS.map(c => `articles.${c}` as const))
    .where(eb => scope(eb, actor))
  if (input.q !== undefined && input.q.trim() !== '') {
    const cond = searchCondition(input.q)
    query = query.where(() => cond)
  }
  if (input.category !== undefined) query = query.where('articles.category', '=', input.category)
  if (input.active !== undefined) query = query.where('articles.isActive', '=', input.active)
  if (input.supplierId !== undefined) {
    const supplierId = input.supplierId
    query = query.where(eb => eb.exists(eb.selectFrom('offers').select(sql`1`.as('one'))
      .whereRef('offers.articleId', '=', 'articles.id').where('offers.supplierId', '=', supplierId).where('offers.isActive', '=', true)))
  }
  if (input.cursor !== undefined) {
    const [code] = decodeCursor(input.cursor, 1)
    if (typeof code !== 'string') throw problem('INVALID_CURSOR', 'The cursor does not fit this list')
    query = query.where('articles.code', '>', code)
  }
  const rows = await query.orderBy('articles.code').limit(limit + 1).execute()
  return page(rows, limit, r => [r.code])
}

// The article's columns under their camelCase keys, timestamps formatted by PostgreSQL: the hot
// read and the create are constant SQL texts (prepared once per connection) run without Kysely's
// plugins or query building.
const ARTICLE_SQL = `id, code, name, description, category, base_unit AS "baseUnit", material, dimensions,
  vat_rate AS "vatRate", is_active AS "isActive", version, ${isoMs('created_at')} AS "createdAt", ${isoMs('updated_at')} AS "updatedAt"`
const BY_ID_SELECT = `SELECT ${ARTICLE_SQL} FROM articles WHERE id = $1::uuid`
const BY_ID = {
  platform: BY_ID_SELECT,
  station: `${BY_ID_SELECT} AND is_active`,
  supplier: `${BY_ID_SELECT} AND EXISTS (SELECT 1 FROM offers o WHERE o.article_id = articles.id AND o.supplier_id = $2::uuid)`
}
const INSERT = `INSERT INTO articles (code, name, description, category, base_unit, material, dimensions, vat_rate, is_active)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric, $9::boolean) RETURNING ${ARTICLE_SQL}`

/** Every constant text this file runs (snapshotted as .sql files by test/domains/catalog/articles-sql.test.ts). */
export const ARTICLE_STATEMENTS = {
  'article-by-id-platform': BY_ID.platform,
  'article-by-id-station': BY_ID.station,
  'article-by-id-supplier': BY_ID.supplier,
  'article-insert': INSERT
} as const

export async function getArticle (db: Db, actor: Actor, id: string): Promise<Article> {
  const rows = actor.role === 'SUPPLIER'
    ? await rawRows<Article>(db, BY_ID.supplier, [id, actor.organizationId])
    : await rawRows<Article>(db, actor.role === 'STATION' ? BY_ID.station : BY_ID.platform, [id])
  const row = rows[0]
  if (row === undefined) throw notFound('Article')
  return row
}

export async function createArticle (db: Db, _actor: Actor, input: ArticleCreate): Promise<Article> {
  const rows = await rawRows<Article>(db, INSERT, [input.code, input.name, input.description ?? null, input.category, input.baseUnit ?? 'piece',
    input.material ?? null, input.dimensions ?? null, input.vatRate ?? '20.00', input.isActive ?? true])
  return rows[0] as Article
}

export async function updateArticle (db: Db, _actor: Actor, id: string, input: ArticlePatch, expectedVersion?: number): Promise<{ before: Article, after: Article }> {
  const before = await db.selectFrom('articles').select(COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst()
  if (before === undefined) throw notFound('Article')
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw problem('PRECONDITION_FAILED', `If-Match "${expectedVersion}" does not match the current ETag "${before.version}"`)
  const after = await db.updateTable('articles')
    .set(eb => ({ ...input, version: eb('version', '+', 1), updatedAt: new Date() }))
    .where('id', '=', id)
    .returning(COLUMNS).executeTakeFirstOrThrow()
  return { before, after }
}
