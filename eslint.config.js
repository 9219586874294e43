import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'src/db/types.generated.ts', 'coverage/**', 'node_modules/**', '.data/**', 'bench-results/**', 'clients/typescript/schema.d.ts'] }),
  {
    rules: {
      // `void promise` marks a deliberately unawaited call (Fastify reply helpers, timers)
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    // A cast to never or through unknown silences the type checker instead of informing it: type
    // the value (generated table types, the library's declared types), or narrow once to a declared
    // interface with a comment saying why (src/db/index.ts, src/app.ts).
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: "TSAsExpression[typeAnnotation.type='TSNeverKeyword'], TSTypeAssertion[typeAnnotation.type='TSNeverKeyword']", message: 'No `as never`: type the value, or narrow to a declared type with a comment.' },
        { selector: "TSAsExpression[typeAnnotation.type!='TSUnknownKeyword'] > TSAsExpression.expression[typeAnnotation.type='TSUnknownKeyword']", message: 'No `as unknown as`: type the value, or narrow to a declared type with a comment.' }
      ]
    }
  },
  {
    // demo.ts imports the seed steps; a step imports what the steps share from db/seed/context.ts
    files: ['db/seed/steps/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/demo.js', '**/demo'], message: 'A seed step imports db/seed/context.ts, not demo.ts (demo.ts imports the steps).' }] }]
    }
  }
]
