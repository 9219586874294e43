import type { App } from '../../lib/route.js'

export default async function usersRoutes (_app: App): Promise<void> {}
