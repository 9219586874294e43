import type { App } from '../../lib/route.js'

export default async function ordersRoutes (_app: App): Promise<void> {}
