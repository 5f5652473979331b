// Layering of src/ (docs/architecture.md): every import points down this list, never up.
//
//   entry points   main.ts, cli/, compose.ts, app.ts          (compose and wire everything)
//   handlers/      one file per tag: the operations, typed from the contract
//   http/          the pipeline stages, the error handler
//   services       auth/, identity/, domain/, audit/, runner/, rate-limit/, cache/
//   data access    db/ (the database, transactions, repositories)
//   foundations    contract/, crypto/, logging/, errors.ts, config.ts, net/, time ...
//
// `npm run check` runs it (npm run lint:deps); a violation fails the check.
/** @type {import('dependency-cruiser').IConfiguration} */
const ENTRY = '^src/(main|compose|app|bootstrap|listen|graceful-shutdown)\\.ts$|^src/cli/';
const HANDLERS = '^src/handlers/';
const HTTP = '^src/http/';
const SERVICES = '^src/(auth|identity|domain|audit|runner|rate-limit|cache)/';
const DATA = '^src/db/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be understood, tested or changed alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-upward-from-handlers',
      severity: 'error',
      comment: 'Handlers are composed by the entry points; they never import them.',
      from: { path: HANDLERS },
      to: { path: ENTRY },
    },
    {
      name: 'no-upward-from-http',
      severity: 'error',
      comment: 'The pipeline runs handlers through the registry it is given; it never imports them or the entry points.',
      from: { path: HTTP },
      to: { path: `${ENTRY}|${HANDLERS}` },
    },
    {
      name: 'no-upward-from-services',
      severity: 'error',
      comment: 'Services know nothing of HTTP: a request context reaches them as a value, not an import of src/http.',
      from: { path: SERVICES },
      to: { path: `${ENTRY}|${HANDLERS}|${HTTP}` },
    },
    {
      name: 'no-upward-from-data',
      severity: 'error',
      comment: 'The database layer serves the services; it never imports them.',
      from: { path: DATA },
      to: { path: `${ENTRY}|${HANDLERS}|${HTTP}|${SERVICES}` },
    },
    {
      name: 'no-upward-from-foundations',
      severity: 'error',
      comment: 'Foundations (contract, crypto, logging, errors, config) depend on nothing of ours above them.',
      from: { path: '^src/', pathNot: `${ENTRY}|${HANDLERS}|${HTTP}|${SERVICES}|${DATA}|^src/mock/` },
      to: { path: `${ENTRY}|${HANDLERS}|${HTTP}|${SERVICES}|${DATA}` },
    },
    {
      name: 'no-private-dist',
      severity: 'error',
      comment:
        "A package's dist/ internals are not its API: the next minor release can move them. " +
        'Matched on the import specifier by ESLint (no-restricted-imports); here on resolved paths below a dist/ subfolder other than an entry point.',
      from: { path: '^src/' },
      to: { path: 'node_modules/express-openapi-validator/dist/(?!index\\.js$)' },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      comment: 'Production code never imports test code.',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
