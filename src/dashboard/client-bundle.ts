/**
 * The page's assets, built from local files when the server starts: the browser code (TypeScript
 * in client/, bundled with uPlot from node_modules by esbuild) and the stylesheets. Nothing is
 * fetched from the network, at build time or by the page.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const clientDir = fileURLToPath(new URL('./client/', import.meta.url));

/** The fixed set of files the page may ask for, by URL path. */
export async function buildAssets(): Promise<ReadonlyMap<string, Asset>> {
  const bundled = await build({
    entryPoints: [`${clientDir}main.ts`],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    write: false,
    minify: true,
    legalComments: 'inline',
    logLevel: 'silent',
  });
  const js = bundled.outputFiles[0];
  if (js === undefined) throw new Error('esbuild produced no output for the dashboard page');
  const require = createRequire(import.meta.url);
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'));
  const text = (s: string): Buffer => Buffer.from(s, 'utf8');
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: readFileSync(`${clientDir}index.html`) }],
    ['/assets/app.js', { type: 'text/javascript; charset=utf-8', body: text(js.text) }],
    [
      '/assets/app.css',
      { type: 'text/css; charset=utf-8', body: readFileSync(`${clientDir}app.css`) },
    ],
    ['/assets/uplot.css', { type: 'text/css; charset=utf-8', body: uplotCss }],
  ]);
}
