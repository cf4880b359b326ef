/**
 * `await import(pkg)` of a CommonJS package inside our ESM bundle yields only
 * `{ default: module.exports }` (esbuild applies Node's CJS-from-ESM rule to `.mjs` output),
 * while unbundled Node also offers named exports. Reading `default` first works for both, and
 * passes an ES module's namespace through as long as it has no default export: the SDK files in
 * `sdk/` (ES modules since scripts/build.ts prefers them) must keep to named exports.
 */
export function cjsExports<T>(namespace: T): T {
  return (namespace as { default?: T }).default ?? namespace;
}
