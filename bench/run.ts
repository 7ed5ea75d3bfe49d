/** `npm run bench`: every benchmark, figures printed (see README, Benchmarks). `--only routing|calls|registrations` picks one. */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (!only || only === 'routing') await import('./routing.js');
if (!only || only === 'calls') await import('./calls.js');
if (!only || only === 'registrations') await import('./registrations.js');
