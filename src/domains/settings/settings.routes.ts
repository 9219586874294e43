import type { App } from '../../lib/route.js'

export default async function settingsRoutes (_app: App): Promise<void> {}
