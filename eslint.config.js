import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'src/db/types.generated.ts', 'coverage/**', 'node_modules/**', '.data/**', 'bench-results/**'] }),
  {
    rules: {
      // `void promise` marks a deliberately unawaited call (Fastify reply helpers, timers)
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
