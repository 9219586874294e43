// pg's internal value conversion (lib/utils.js, exported by the package's "./lib/*" entry): the
// text it sends for a query parameter — used to write parameters as literals (db/index.ts).
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue: (value: unknown) => unknown }
  export default utils
}
