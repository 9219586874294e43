import type { App } from '../../lib/route.js'

export default async function organizationsRoutes (_app: App): Promise<void> {}
