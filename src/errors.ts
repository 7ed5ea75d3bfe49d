/**
 * Coded errors. Each code is documented in the README (a test keeps them in
 * step); each message says what was wrong, where, and what to change.
 */

export type ErrorCode =
  | 'DROUTER_ERR_CONFIG'
  | 'DROUTER_ERR_STORE_UNREACHABLE'
  | 'DROUTER_ERR_STORE_URL'
  | 'DROUTER_ERR_ROW'
  | 'DROUTER_ERR_SEED'
  | 'DROUTER_ERR_ROUTING'
  | 'DROUTER_ERR_SCHEMA'
  | 'DROUTER_ERR_USAGE'
  | 'DROUTER_ERR_SIP_BIND'
  | 'DROUTER_ERR_ADMIN_BIND'
  | 'DROUTER_ERR_DRACHTIO'
  | 'DROUTER_ERR_CACHE_UNAVAILABLE'
  | 'DROUTER_ERR_NOT_FOUND'
  | 'DROUTER_ERR_UNAUTHORIZED'
  | 'DROUTER_ERR_FORBIDDEN_HOST'
  | 'DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'DROUTER_ERR_ADMIN_UNREACHABLE'
  | 'DROUTER_ERR_TLS'
  | 'DROUTER_ERR_INTERNAL';

export class DrouterError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A command or an admin request was given something it cannot use (a bad option, a bad query parameter). */
export class UsageError extends DrouterError {
  constructor(message: string) {
    super('DROUTER_ERR_USAGE', message);
  }
}

/** One configuration violation: the key path, the offending value, what is allowed. */
export interface ConfigViolation {
  key: string;
  value: unknown;
  allowed: string;
  /** Where the value came from: a file path or an environment variable name. */
  source: string;
}

export class ConfigError extends DrouterError {
  readonly violations: readonly ConfigViolation[];

  constructor(violations: readonly ConfigViolation[]) {
    super('DROUTER_ERR_CONFIG', formatViolations(violations));
    this.violations = violations;
  }
}

function formatViolations(violations: readonly ConfigViolation[]): string {
  const lines = violations.map((v) => `  ${v.key} = ${describeValue(v.value)} (from ${v.source}): ${v.allowed}`);
  const noun = violations.length === 1 ? 'problem' : 'problems';
  return `invalid configuration, ${violations.length} ${noun}:\n${lines.join('\n')}`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- String only gets what JSON cannot write: a function or a symbol
  return redactUrlPassword(JSON.stringify(value) ?? String(value));
}

/** The text of a thrown value: an Error's message, else the value itself as text (a library may throw a string). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Hides the password of any `scheme://user:password@host` inside a string. */
export function redactUrlPassword(text: string): string {
  return text.replace(/(\/\/[^:/@\s"]*:)[^@\s"]*@/g, '$1***@');
}

/** A database row whose value does not fit its column. */
export interface RowProblem {
  table: string;
  /** The row's key (`id`, `ruleid`, `gwid` …) as `column=value`. */
  row: string;
  column: string;
  value: unknown;
  problem: string;
}

export function formatRowProblem(p: RowProblem): string {
  return `${p.table} row ${p.row}: column ${p.column} = ${JSON.stringify(p.value)}: ${p.problem}`;
}

export class RowError extends DrouterError {
  readonly problems: readonly RowProblem[];

  constructor(problems: readonly RowProblem[]) {
    super('DROUTER_ERR_ROW', problems.map(formatRowProblem).join('\n'));
    this.problems = problems;
  }
}

export class StoreUnreachableError extends DrouterError {
  constructor(redactedUrl: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'DROUTER_ERR_STORE_UNREACHABLE',
      `cannot reach the store at ${redactedUrl}: ${reason} (check store.url and that the database server runs)`,
      { cause },
    );
  }
}

export class StoreUrlError extends DrouterError {
  constructor(redactedUrl: string, reason: string) {
    super('DROUTER_ERR_STORE_URL', `store.url ${redactedUrl} is not usable: ${reason}`);
  }
}

/** The cache did not answer (connect, or any operation after). */
export class CacheUnavailableError extends DrouterError {
  /** The cache URL with any password hidden. */
  readonly displayUrl: string;
  /** What was being done: `connect`, `ping`, `swapBindings` … */
  readonly operation: string;

  constructor(url: string, operation: string, cause: unknown) {
    const displayUrl = redactUrlPassword(url);
    const reason = redactUrlPassword(cause instanceof Error ? cause.message : String(cause));
    super(
      'DROUTER_ERR_CACHE_UNAVAILABLE',
      `the cache at ${displayUrl} did not answer ${operation}: ${reason} (check cache.url and that Redis runs)`,
      {
        cause,
      },
    );
    this.displayUrl = displayUrl;
    this.operation = operation;
  }
}

/** The routing data does not build: every row problem, one per line. */
export class RoutingDataError extends DrouterError {
  readonly problems: readonly RowProblem[];

  constructor(problems: readonly RowProblem[]) {
    const noun = problems.length === 1 ? 'error' : 'errors';
    super(
      'DROUTER_ERR_ROUTING',
      `routing data has ${problems.length} ${noun}:\n${problems.map((p) => `  ${formatRowProblem(p)}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

/** A table the store lacks, or a column of it that cannot be read. */
export interface SchemaProblem {
  table: string;
  /** Absent when the whole table is missing. */
  column?: string;
  /** What is wrong with the column: `missing`, or its type and what it should be. */
  problem?: string;
}

/**
 * The database's tables are not a layout sip-drouter reads (docs/schema.md
 * "Schema"): a required table or column is missing, or a column's type
 * cannot hold what is read from it. Lists every problem.
 */
export class SchemaError extends DrouterError {
  readonly problems: readonly SchemaProblem[];

  constructor(redactedUrl: string, problems: readonly SchemaProblem[]) {
    const tables = problems.filter((p) => p.column === undefined).map((p) => p.table);
    const columns = problems
      .filter((p) => p.column !== undefined)
      .map((p) => `  ${p.table}.${p.column}: ${p.problem ?? 'missing'}`);
    const parts: string[] = [];
    if (tables.length > 0)
      parts.push(`the store at ${redactedUrl} lacks a table (${tables.join(', ')}): run drouter migrate`);
    if (columns.length > 0) {
      const noun = columns.length === 1 ? 'a column' : `${columns.length} columns`;
      parts.push(
        `the store at ${redactedUrl} has ${noun} sip-drouter cannot read (it reads the OpenSIPS 1.5–3.x and Kamailio 5.x drouting layouts; docs/schema.md "Schema"):\n${columns.join('\n')}`,
      );
    }
    super('DROUTER_ERR_SCHEMA', parts.join('\n'));
    this.problems = problems;
  }
}
