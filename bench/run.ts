/** `npm run bench`: every benchmark, figures printed (see README, Benchmarks). */
await import('./routing.js');
