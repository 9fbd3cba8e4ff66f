/**
 * Worker threads whose entry is a TypeScript file. A worker does not inherit the parent's tsx
 * loader, so it starts from a one-line eval'd bootstrap that registers tsx (resolved from this
 * package, so it works from any cwd) and then imports the entry.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Code for `new Worker(code, { eval: true })` that runs the TypeScript module at `entry`. */
export function tsWorkerBootstrap(entry: URL): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
}
