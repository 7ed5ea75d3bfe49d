import { type OpenSipsOptions, scriptHead } from './opensips-process.js';

/**
 * An OpenSIPS serving its MI over HTTP (httpd + mi_http, root `mi`) with
 * drouting on `dbUrl` (its tables, or with `partitioned` the partitions
 * its dr_partitions names), and nothing else: the other side of
 * mi-opensips.test.ts. Probing is off (probing_interval 0), so the state
 * columns stay as loaded.
 */
export function miScript(options: OpenSipsOptions & { httpPort: number; partitioned: boolean }): string {
  // With partitions, dr_partitions in that database names each partition's tables (use_partitions).
  const data = options.partitioned
    ? `modparam("drouting", "use_partitions", 1)\nmodparam("drouting", "db_partitions_url", "${options.dbUrl}")`
    : `modparam("drouting", "db_url", "${options.dbUrl}")`;
  return `${scriptHead(options)}
loadmodule "db_mysql.so"
loadmodule "httpd.so"
modparam("httpd", "ip", "${options.address}")
modparam("httpd", "port", ${options.httpPort})
loadmodule "mi_http.so"
loadmodule "drouting.so"
${data}
modparam("drouting", "probing_interval", 0)

route {
  exit;
}
`;
}
