import type { App } from '../../lib/route.js'

export default async function cartsRoutes (_app: App): Promise<void> {}
