/**
 * `await import(pkg)` of a CommonJS package inside our ESM bundle yields only
 * `{ default: module.exports }` (esbuild applies Node's CJS-from-ESM rule to `.mjs` output),
 * while unbundled Node also offers named exports. Reading `default` first works for both.
 * Only for CommonJS packages and ESM packages without a default export (all we load lazily).
 */
export function cjsExports<T>(namespace: T): T {
  return (namespace as { default?: T }).default ?? namespace;
}
