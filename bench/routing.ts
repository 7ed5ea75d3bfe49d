import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRules, type PrefixShape } from './generate-rules.js';

/**
 * `npm run bench` (routing part): builds SQLite data sets of 10k, 100k and
 * 1M rules, then for each runs a fresh process that loads, reloads and
 * looks up. Figures only; nothing here passes or fails.
 * Options: --sizes 10000,100000 --shapes scattered,dense --lookups 100000
 */

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const sizes = option('sizes', '10000,100000,1000000').split(',').map(Number);
const shapes = option('shapes', 'scattered,dense').split(',') as PrefixShape[];
const lookups = option('lookups', '100000');
const dataDir = join(tmpdir(), 'drouter-bench');
mkdirSync(dataDir, { recursive: true });

console.log(`routing benchmark: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
console.log(
  "lookup = the proxy's decision (rule + ordered gateways + Request-URIs); explained = with every rule and gateway looked at",
);
console.log(
  'rules      shape      usable(ms)  rss(MB)  reload(ms)  peak rss(MB)  lookup p50(us)  p99(us)  explained p50(us)',
);
for (const size of sizes) {
  for (const shape of shapes) {
    const file = join(dataDir, `rules-${shape}-${size}.db`);
    if (!existsSync(file)) await generateRules(file, shape, size);
    const child = join(import.meta.dirname, 'load-snapshot.js');
    const output = execFileSync(process.execPath, ['--max-old-space-size=4096', child, file, lookups], {
      encoding: 'utf8',
    });
    const r = JSON.parse(output.trim().split('\n').pop() ?? '{}') as Record<string, number>;
    console.log(
      [
        String(r.rules).padEnd(10),
        shape.padEnd(10),
        String(r.usableMs).padStart(10),
        String(r.rssAfterLoadMB).padStart(8),
        String(r.reloadMs).padStart(11),
        String(r.peakRssMB).padStart(13),
        (r.lookupP50us ?? 0).toFixed(2).padStart(15),
        (r.lookupP99us ?? 0).toFixed(2).padStart(8),
        (r.explainedP50us ?? 0).toFixed(2).padStart(18),
      ].join(' '),
    );
  }
}
