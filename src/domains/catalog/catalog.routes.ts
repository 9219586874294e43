import type { App } from '../../lib/route.js'

export default async function catalogRoutes (_app: App): Promise<void> {}
