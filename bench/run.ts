/**
 * `npm run bench`: every benchmark, figures printed (see docs/benchmarks.md).
 * `--only routing|messages|calls|registrations|floor|anchor|million|opensips|overload|sentinel|tls` (or a comma list) picks parts
 * (anchor: Kamailio 5.6 in the proxy's place, bench/anchor.ts; million: calls through 1 000 000 rules, ours and Kamailio's, bench/million.ts; opensips: the differential against OpenSIPS 3.5.9, bench/opensips.ts;
 * overload: twice the sustained call rate and a REGISTER brute force, bench/overload.ts;
 * sentinel: the REGISTER rate with cache.waitReplicas 1 against 0, and the outage phones see in a Redis Sentinel failover, bench/sentinel.ts;
 * tls: REGISTER and call rates over UDP, then over TLS through stunnel, bench/tls.ts);
 * `--engine drachtio` runs the calls and registrations on the native engine, then through a drachtio-server;
 * `--workers N` runs them as one process and as N worker processes, both on Redis (bench/workers.ts).
 */
const only = process.argv.includes('--only')
  ? (process.argv[process.argv.indexOf('--only') + 1] ?? '').split(',')
  : undefined;
const wanted = (part: string) => !only || only.includes(part);
if (wanted('routing')) await import('./routing.js');
if (wanted('messages')) await import('./messages.js');
if (wanted('calls')) await import('./calls.js');
if (wanted('registrations')) await import('./registrations.js');
if (wanted('floor')) await import('./floor.js');
if (wanted('anchor')) await import('./anchor.js');
if (wanted('million')) await import('./million.js');
if (wanted('opensips')) await import('./opensips.js');
if (wanted('overload')) await import('./overload.js');
if (wanted('sentinel')) await import('./sentinel.js');
if (wanted('tls')) await import('./tls.js');
