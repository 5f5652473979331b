// Layering of src/ (docs/architecture.md): every import points down this list, never up.
//
//   entry points   main.ts, cli/, compose.ts, app.ts          (compose and wire everything)
//   handlers/      one file per tag: the operations, typed from the contract
//   http/          the pipeline stages, the error handler
//   services       auth/, identity/, domain/, audit/, runner/, rate-limit/, cache/
//   data access    db/repositories/ (one repository per aggregate: all the SQL; tenant scoping
//                  in tenant-query.ts), over db/ (opening the database, units of work, migrations)
//   foundations    contract/, crypto/, logging/, errors.ts, config.ts, net/, tenant.ts ...
//
// Services reach the database only through repositories, and take part in units of work
// through db/transaction.ts (the Tx they are handed); handlers and the pipeline only hand
// units of work on. Nothing above db/ imports Kysely. (test/lint/data-access.test.ts checks
// what imports cannot show: no query is built outside db/.)
//
// `npm run check` runs it (npm run lint:deps); a violation fails the check.
/** @type {import('dependency-cruiser').IConfiguration} */
const ENTRY = '^src/(main|compose|app|bootstrap|listen|graceful-shutdown)\\.ts$|^src/cli/';
const HANDLERS = '^src/handlers/';
const HTTP = '^src/http/';
const SERVICES = '^src/(auth|identity|domain|audit|runner|rate-limit|cache)/';
const DATA = '^src/db/';
const REPOSITORIES = '^src/db/repositories/';
/** What of db/ may be imported from above it: the repositories, and the unit of work (Tx, Transaction). */
const DATA_ACCESS = `${REPOSITORIES}|^src/db/transaction\\.ts$`;
const KYSELY = '(^|/)node_modules/kysely/';

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
      comment:
        'The pipeline runs handlers through the registry it is given; it never imports them or the entry points.',
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
      name: 'services-through-repositories',
      severity: 'error',
      comment:
        'Services keep the logic and call repositories, which own the SQL: a service never opens the database, ' +
        'builds a query (Kysely) or reads the schema; it takes part in a unit of work through the Tx it is handed.',
      from: { path: SERVICES },
      to: { path: `${DATA}|${KYSELY}`, pathNot: DATA_ACCESS },
    },
    {
      name: 'no-database-in-handlers-and-http',
      severity: 'error',
      comment:
        'Handlers and the pipeline call services; they never import the database, a repository or Kysely. ' +
        'They may hand a unit of work on (db/transaction.ts: Tx, Transaction).',
      from: { path: `${HANDLERS}|${HTTP}` },
      to: { path: `${DATA}|${KYSELY}`, pathNot: '^src/db/transaction\\.ts$' },
    },
    {
      name: 'tenant-scoping-in-repositories',
      severity: 'error',
      comment:
        'Tenant scoping is applied in one place, tenant-query.ts, and only the repositories build queries with it.',
      from: { pathNot: REPOSITORIES },
      to: { path: `${REPOSITORIES}tenant-query\\.ts$` },
    },
    {
      name: 'repositories-built-by-entry-points',
      severity: 'error',
      comment:
        'repositoriesOn(db) is called where the database is opened (the entry points); services are handed repositories.',
      from: { pathNot: `${ENTRY}|${REPOSITORIES}` },
      to: { path: `${REPOSITORIES}index\\.ts$`, dependencyTypesNot: ['type-only'] },
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
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
