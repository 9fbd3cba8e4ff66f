#!/usr/bin/env node
// Builds the optional native gemm addon (native/ → native/build/Release/spell_gemm.node) with
// node-gyp and the machine's C compiler. Runs as the package's `install` script, so it must never
// fail the install: on any problem it prints one warning line, exits 0, and the engine uses its
// pure-JS gemm. Set SPELL_SKIP_NATIVE=1 to skip the build entirely.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const output = join(nativeDir, 'build', 'Release', 'spell_gemm.node');
const verbose = process.argv.includes('--verbose');

function warn(reason) {
  console.warn(`spell: native gemm not built (${reason}); using the slower pure-JS matmul.`);
  process.exit(0);
}

if (process.env.SPELL_SKIP_NATIVE === '1') warn('SPELL_SKIP_NATIVE=1');

// npm exports the path of its bundled node-gyp to scripts; outside npm, look beside node's own npm
// (<prefix>/lib/node_modules/npm/...), then fall back to a node-gyp on PATH.
const bundledGyp = join(
  dirname(process.execPath),
  '..',
  'lib',
  'node_modules',
  'npm',
  'node_modules',
  'node-gyp',
  'bin',
  'node-gyp.js',
);
const gypJs = [process.env.npm_config_node_gyp, bundledGyp].find((p) => p && existsSync(p));
// node-gyp downloads Node's headers unless told where they are; machines without internet access to
// nodejs.org (CI here) then fail. The running Node's own install usually ships them
// (<prefix>/include/node/node_api.h, as Debian's and the official tarballs do): point node-gyp there.
const nodePrefix = join(dirname(process.execPath), '..');
const localHeaders = existsSync(join(nodePrefix, 'include', 'node', 'node_api.h'));
const gypArgs = ['rebuild', ...(localHeaders ? [`--nodedir=${nodePrefix}`] : [])];
const [cmd, args] = gypJs ? [process.execPath, [gypJs, ...gypArgs]] : ['node-gyp', gypArgs];

// A stale addon from an earlier build must not survive a failed rebuild.
rmSync(output, { force: true });
const res = spawnSync(cmd, args, {
  cwd: nativeDir,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
  timeout: 300_000,
});
if (res.error) warn(`${cmd}: ${res.error.message}`);
if (res.status !== 0) {
  const tail = `${res.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
  warn(`node-gyp exited with ${res.status ?? res.signal}${tail ? `: ${tail}` : ''}`);
}
if (!existsSync(output)) warn(`build finished but ${output} is missing`);

// Load it once here so a broken binary is reported now rather than at first use.
const check = spawnSync(
  process.execPath,
  [
    '-e',
    `const m=require(${JSON.stringify(output)});if(typeof m.sgemm!=='function')process.exit(3)`,
  ],
  { stdio: 'pipe', encoding: 'utf8' },
);
if (check.status !== 0) {
  rmSync(output, { force: true });
  warn(`built addon does not load: ${`${check.stderr}`.trim().split('\n')[0] ?? ''}`);
}
console.log(`spell: native gemm built (${output})`);
