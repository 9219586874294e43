import type { App } from '../../lib/route.js'

export default async function contractsRoutes (_app: App): Promise<void> {}
