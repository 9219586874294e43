import type { App } from '../../lib/route.js'

export default async function authRoutes (_app: App): Promise<void> {}
