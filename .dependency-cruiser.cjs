/**
 * dependency-cruiser rules for Zokio's sources, checked by test/package/import-cycles.test.ts
 * (`npx depcruise src --config .dependency-cruiser.cjs` runs the same check by hand).
 *
 * No import cycle among the modules under src/, counting type-only imports too: a runtime
 * part imports the part contract (src/runtime/part.ts), never the runtime class, and the
 * composition function (src/runtime/compose.ts) is the only module that imports the parts.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules must not import each other in a cycle (type-only imports count): see src/runtime/compose.ts for how parts are wired.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'parts-import-the-contract-not-the-runtime',
      severity: 'error',
      comment: 'A runtime part imports src/runtime/part.ts (and the context or clock it needs), never the runtime, its builder, the default runtime or the composition function.',
      from: {
        path: '^src/(scheduler/timer-driver|io/io-driver|io/signals|trace/tracing-part|memory/runtime-part|scheduler/pool/pool-part|scheduler/blocking/index|io/http/client/pool|io/process/process-part|distributed/remote-part|console/console-part)[.]ts$',
      },
      to: { path: '^src/runtime/(runtime|builder|entry|current|compose)[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.js', '.mjs'] },
  },
};
