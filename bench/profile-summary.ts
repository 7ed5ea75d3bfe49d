import { readFileSync } from 'node:fs';

/**
 * `node build-bench/bench/profile-summary.js FILE.cpuprofile`: where a
 * `--cpu-prof` run of the proxy spent its time, as shares of the busy time
 * (idle excluded) by package or source file, and the top functions by self
 * time. The benchmarks write such files with DROUTER_BENCH_PROFILE_DIR.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package>, our own src/<file>, node:internal, or V8's (garbage collector) and the like. */
function owner(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch) return packageMatch[1] ?? url;
  const own = /\/dist\/(.+)$/.exec(url);
  if (own) return own[1] ?? url;
  return url.startsWith('node:') ? url : url.replace(/^file:\/\//, '');
}

function printShares(title: string, micros: Map<string, number>, busy: number, top: number): void {
  console.log(title);
  for (const [name, us] of [...micros].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${name}`);
  }
}

const file = process.argv[2];
if (!file) {
  console.error('usage: profile-summary FILE.cpuprofile');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const byOwner = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, us] of selfMicros) {
  const frame = byId.get(id)?.callFrame;
  if (!frame) continue;
  total += us;
  if (frame.functionName === '(idle)') {
    idle += us;
    continue;
  }
  const who = owner(frame.url, frame.functionName);
  byOwner.set(who, (byOwner.get(who) ?? 0) + us);
  const name = `${frame.functionName || '(anonymous)'} ${who}:${frame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
}
const busy = total - idle;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${((busy / total) * 100).toFixed(0)} % busy`);
printShares('busy time by package or file:', byOwner, busy, 25);
printShares('top functions by self time:', byFunction, busy, 30);
