// better-sqlite3 compiles from source where its prebuilt binary (a GitHub
// release download) cannot be fetched, as on the CI machines here: 70-90 s of
// every `npm ci`. prebuild-install looks for a local prebuild first, in the
// folder its local-prebuilds setting names (.ci/run names one in its cache in
// a .prebuild-installrc for the length of its `npm ci`): this keeps there the
// binary that `npm ci` built, in a prebuild's layout
// (build/Release/better_sqlite3.node in a tar.gz named as the download), so
// the next `npm ci` on this machine unpacks it. Package version, Node ABI,
// platform and architecture are in the name.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, renameSync } = require('node:fs');
const { dirname, resolve } = require('node:path');
const util = require('prebuild-install/util');
const pkg = require('better-sqlite3/package.json');
const opts = { ...require('prebuild-install/rc')(pkg), pkg };

if (opts['local-prebuilds'] === 'prebuilds')
  throw new Error('keep-sqlite-prebuild: no .prebuild-installrc names a local-prebuilds folder');
const kept = resolve(util.localPrebuild(util.getDownloadUrl(opts), opts));
if (existsSync(kept)) {
  console.log(`ci: better-sqlite3 ${pkg.version} came from ${kept}`);
} else {
  const partial = `${kept}.partial`;
  mkdirSync(dirname(kept), { recursive: true });
  execFileSync('tar', [
    '-czf',
    partial,
    '-C',
    dirname(require.resolve('better-sqlite3/package.json')),
    'build/Release/better_sqlite3.node',
  ]);
  renameSync(partial, kept);
  console.log(`ci: better-sqlite3 ${pkg.version} as built kept at ${kept}, for the next npm ci`);
}
