import type { AdminConfig } from '../config/schema.js';
import { DrouterError, type ErrorCode, errorMessage, redactUrlPassword, UsageError } from '../errors.js';
import { AdminError } from './admin-contract.js';

/**
 * The CLI's side of the admin API: calls a route and returns the JSON it
 * answered. An error body (`{ error: { code, message } }`) comes back as
 * the AdminError the server threw, with its HTTP status; no answer at all
 * is an AdminUnreachableError.
 */

/** Nothing usable at the URL: no server, no such host, or something that does not speak the admin API. */
export class AdminUnreachableError extends DrouterError {
  constructor(
    url: string,
    what: string,
    /** Nothing listens there: the one case `drouter route` answers from the database instead. */
    readonly connectionRefused: boolean,
  ) {
    super(
      'DROUTER_ERR_ADMIN_UNREACHABLE',
      `no admin API at ${url}: ${what} (the server does not run there, or --url is wrong)`,
    );
  }
}

type Query = Readonly<Record<string, string | undefined>>;

/** Longer than any admin request takes (a reload of a large table included), short enough for a script. */
const ANSWER_TIMEOUT_MS = 10_000;

interface ErrorBody {
  error: { code: string; message: string };
}

function isErrorBody(body: unknown): body is ErrorBody {
  const error = (body as { error?: unknown } | null)?.error as { code?: unknown; message?: unknown } | undefined;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

/** `http://admin.address:admin.port`, where `drouter start` serves the API with this configuration. */
export function configuredAdminUrl(admin: Pick<AdminConfig, 'address' | 'port'>): string {
  const host = admin.address.includes(':') ? `[${admin.address}]` : admin.address;
  return `http://${host}:${admin.port}`;
}

function checkedBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `--url ${JSON.stringify(url)}: expected the admin API's address, such as http://127.0.0.1:8080`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UsageError(`--url ${JSON.stringify(url)}: expected an http:// or https:// address`);
  return url.replace(/\/+$/, '');
}

/** Why fetch got no answer: undici puts the socket's error (ECONNREFUSED, ENOTFOUND …) in `cause`. */
function failureOf(error: unknown): { what: string; refused: boolean } {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === 'ECONNREFUSED') return { what: 'connection refused', refused: true };
  const detail = typeof cause?.message === 'string' ? cause.message : errorMessage(error);
  return { what: detail, refused: false };
}

/** What the operator can do about a refusal of the admin API's guard (request-guard.ts). */
const HINTS: Readonly<Record<number, string>> = {
  401: '; give --token or set admin.token (DROUTER_ADMIN__TOKEN)',
  403: "; use the admin address in --url, or add the URL's host name to the server's admin.allowedHosts",
};

export class AdminClient {
  /** The base URL, without a trailing slash and with any password hidden, for messages. */
  readonly url: string;
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
    /** A server that accepts the connection and never answers (a node being killed, or hung) fails after this. */
    private readonly timeoutMs = ANSWER_TIMEOUT_MS,
  ) {
    this.base = checkedBaseUrl(url);
    this.url = redactUrlPassword(this.base);
  }

  /** The caller names the shape the route answers with; it is not checked. */
  get<T>(path: string, query: Query = {}): Promise<T> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, value);
    const queryString = search.toString();
    return this.send<T>('GET', queryString === '' ? path : `${path}?${queryString}`, undefined);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.send<T>('POST', path, body);
  }

  private async send<T>(method: 'GET' | 'POST', path: string, body: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token !== '') headers.authorization = `Bearer ${this.token}`;
    // The server refuses a POST not declared JSON (request-guard.ts), one without a body included.
    if (method === 'POST') headers['content-type'] = 'application/json';
    // A timer of our own, not AbortSignal.timeout: its timer does not keep the process alive, and a fetch
    // whose socket dies unanswered would leave nothing that does (Node then exits 13, "unsettled top-level await").
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: abort.signal,
      });
      text = await response.text();
    } catch (error) {
      const { what, refused } = abort.signal.aborted
        ? { what: `no answer within ${this.timeoutMs} ms`, refused: false }
        : failureOf(error);
      throw new AdminUnreachableError(this.url, what, refused);
    } finally {
      clearTimeout(timer);
    }
    const request = `${method} ${this.url}${path}`;
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new AdminUnreachableError(
        this.url,
        `${request} answered ${response.status} with ${response.headers.get('content-type') ?? 'no content type'}, not JSON`,
        false,
      );
    }
    // Any other JSON is an answer, whatever the status: a refused reload is a 422 with its report.
    if (!isErrorBody(answer)) return answer as T;
    const hint = HINTS[response.status] ?? '';
    // The server only sends codes of ErrorCode; one from a newer server still prints as it came.
    throw new AdminError(
      response.status,
      answer.error.code as ErrorCode,
      `${answer.error.message} (${request} answered ${response.status}${hint})`,
    );
  }
}
