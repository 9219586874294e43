// Each worker gets its own database cloned from the migrated template (created once per worker).
import pg from 'pg'
import { inject } from 'vitest'

let urlPromise: Promise<string> | undefined

export function serverUrl (): string { return inject('dbServerUrl') }

export function databaseUrl (name: string): string {
  const u = new URL(inject('dbServerUrl'))
  u.pathname = `/${name}`
  return u.toString()
}

export async function createDatabaseFromTemplate (name: string): Promise<string> {
  const admin = new pg.Client(inject('dbServerUrl'))
  await admin.connect()
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('dbTemplate')}`)
        break
      } catch (err) {
        // the template is briefly busy while another worker clones it
        if (attempt > 20) throw err
        await new Promise(resolve => setTimeout(resolve, 100 + Math.random() * 200))
      }
    }
  } finally {
    await admin.end()
  }
  return databaseUrl(name)
}

/** This worker's database URL (cloned from the template on first use). */
export async function testDatabaseUrl (): Promise<string> {
  urlPromise ??= createDatabaseFromTemplate(`${inject('dbPrefix')}_w${process.env.VITEST_POOL_ID ?? '0'}`)
  return await urlPromise
}
