import type { Logger } from '../log.js';
import type { AdminReply, AdminRoute } from './admin-contract.js';
import { errorMessage } from '../errors.js';

/**
 * OpenSIPS's Management Interface over HTTP, as its mi_http module serves
 * it (OpenSIPS 3.5.9 modules/mi_http/mi_http.c, mi/mi.c, mi/item.c): one
 * JSON-RPC 2.0 request per POST to /mi, answered 200 with a JSON-RPC
 * response whatever the command's outcome. The commands themselves are
 * mi-drouting.ts's; this file is the envelope.
 */

/** mi_http's default `root`: the MI's URL is http://host:port/mi. */
export const MI_PATH = '/mi';

/** The JSON-RPC 2.0 error codes of OpenSIPS's MI (mi/mi.h), with its messages. */
export const JSONRPC_ERRORS = {
  parse: { code: -32700, message: 'Parse error' },
  invalidRequest: { code: -32600, message: 'Invalid Request' },
  methodNotFound: { code: -32601, message: 'Method not found' },
  invalidParams: { code: -32602, message: 'Invalid params' },
  server: { code: -32000, message: 'Server error' },
} as const;

/**
 * A command's error answer: JSON-RPC codes for the envelope's errors, and
 * the HTTP-like codes (400, 404, 500) OpenSIPS's commands answer with
 * (init_mi_error). Thrown by a command, caught by the envelope and sent as
 * the response's `error`: an answer to the caller, never a failure of ours.
 */
export class MiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: string,
  ) {
    super(message);
  }
}

function invalidParams(data: string): MiError {
  return new MiError(JSONRPC_ERRORS.invalidParams.code, JSONRPC_ERRORS.invalidParams.message, data);
}

/** cJSON's `valueint`: a number's integer part, held to a C int. */
function cInt(value: number): number {
  return Math.max(-2147483648, Math.min(2147483647, Math.trunc(value)));
}

/** A command's parameters by name (positional ones named after the recipe they matched, as OpenSIPS's _get_mi_param). */
export class MiParams {
  constructor(private readonly values: ReadonlyMap<string, unknown>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** get_mi_string_param: a string, or a number as its decimal integer. */
  string(name: string): string {
    const value = this.values.get(name);
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(cInt(value));
    throw invalidParams(`Bad type for parameter '${name}'`);
  }

  /** get_mi_int_param: a number's integer part, or a string of an optional sign and digits (str2sint). */
  int(name: string): number {
    const value = this.values.get(name);
    if (typeof value === 'number') return cInt(value);
    if (typeof value === 'string' && /^[-+]?[0-9]*$/.test(value) && value !== '')
      return cInt(Number(value.replace(/^[-+]$/, '0')));
    throw invalidParams(`Bad type for parameter '${name}'`);
  }

  /** get_mi_bool_like_param: one character, 0 n N or 1 y Y; anything else (or nothing) is undefined, for the caller's default. */
  boolLike(name: string): boolean | undefined {
    const value = this.values.get(name);
    const text = typeof value === 'number' ? String(cInt(value)) : value;
    if (text === '0' || text === 'n' || text === 'N') return false;
    if (text === '1' || text === 'y' || text === 'Y') return true;
    return undefined;
  }
}

export interface MiCommand {
  /** MI_NAMED_PARAMS_ONLY: positional parameters are refused. */
  readonly namedOnly: boolean;
  /** The parameter sets it takes (its mi_recipe_t list): a call must give exactly one of them. */
  readonly recipes: readonly (readonly string[])[];
  /** The response's `result`; a MiError for its `error`. */
  run(params: MiParams): Promise<unknown>;
}

type JsonRpcId = string | number | null;

type ParsedRequest =
  | { kind: 'parse-error' }
  | { kind: 'invalid'; id: JsonRpcId }
  /** `id` undefined: a notification, answered only when it is not even a request. */
  | {
      kind: 'call';
      id: JsonRpcId | undefined;
      method: string;
      params: readonly unknown[] | Readonly<Record<string, unknown>> | undefined;
    };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** mi.c parse_mi_request: what makes a JSON-RPC 2.0 request (an id, if any, a string, number or null). */
export function parseMiRequest(text: string): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'parse-error' };
  }
  if (!isObject(json)) return { kind: 'invalid', id: null };
  const hasId = 'id' in json;
  const id = json.id;
  const validId = id === null || typeof id === 'string' || typeof id === 'number';
  // OpenSIPS cannot print an id of another type at all (its reply fails); null stands in.
  const replyId: JsonRpcId = validId ? (typeof id === 'number' ? cInt(id) : id) : null;
  const params = json.params;
  if (!validId && hasId) return { kind: 'invalid', id: null };
  if (json.jsonrpc !== '2.0' || typeof json.method !== 'string') return { kind: 'invalid', id: replyId };
  if (params !== undefined && !Array.isArray(params) && !isObject(params)) return { kind: 'invalid', id: replyId };
  // An empty params array or object is no params (mi.c: `!parsed->params->child`).
  const given =
    params === undefined || (Array.isArray(params) ? params.length === 0 : Object.keys(params).length === 0)
      ? undefined
      : params;
  return { kind: 'call', id: hasId ? replyId : undefined, method: json.method, params: given };
}

/** mi.c get_cmd_recipe: the recipe the parameters give exactly, as a map from its names to their values. */
export function matchRecipe(
  command: MiCommand,
  params: readonly unknown[] | Readonly<Record<string, unknown>> | undefined,
): MiParams {
  const tooFewOrMany = () => invalidParams('Too few or too many parameters');
  if (params === undefined) {
    if (command.recipes.some((recipe) => recipe.length === 0)) return new MiParams(new Map());
    throw tooFewOrMany();
  }
  if (Array.isArray(params)) {
    if (command.namedOnly) throw invalidParams('Command only supports named parameters');
    const fits = command.recipes.filter((recipe) => recipe.length > 0 && recipe.length === params.length);
    if (fits.length > 1) throw invalidParams('Ambiguous call, use named parameters instead');
    const [recipe] = fits;
    if (!recipe) throw tooFewOrMany();
    return new MiParams(new Map(recipe.map((name, index) => [name, params[index]])));
  }
  const names = Object.keys(params);
  const sameCount = command.recipes.filter((recipe) => recipe.length > 0 && recipe.length === names.length);
  if (sameCount.length === 0) throw tooFewOrMany();
  if (!sameCount.some((recipe) => recipe.every((name) => names.includes(name))))
    throw invalidParams('Named parameters do not match');
  return new MiParams(new Map(Object.entries(params)));
}

type Outcome = { result: unknown } | { error: { code: number; message: string; data?: string } };

function errorOf(error: MiError): Outcome {
  return { error: { code: error.code, message: error.message, ...(error.data ? { data: error.data } : {}) } };
}

/**
 * One MI request, answered as mi_http answers it: 200 with the JSON-RPC
 * response; 202 and no body for a notification (no `id`), unless it was
 * not a request at all; 400 for an empty body. A command that fails
 * unexpectedly (the store or cache down) is a -32000 "Server error" with
 * the reason as `data`, and logged.
 */
export async function answerMiRequest(
  text: string,
  commands: ReadonlyMap<string, MiCommand>,
  log: Logger,
): Promise<AdminReply> {
  if (text === '') return { status: 400, text: '', contentType: 'text/plain' };
  const request = parseMiRequest(text);
  const reply = (outcome: Outcome, id: JsonRpcId | undefined): AdminReply => ({
    status: 200,
    body: { jsonrpc: '2.0', ...outcome, id: id ?? null },
  });
  if (request.kind === 'parse-error') return reply({ error: JSONRPC_ERRORS.parse }, null);
  if (request.kind === 'invalid') return reply({ error: JSONRPC_ERRORS.invalidRequest }, request.id);
  const outcome = await run(commands.get(request.method), request, log);
  if (request.id === undefined) return { status: 202, text: '', contentType: 'text/plain' };
  return reply(outcome, request.id);
}

async function run(
  command: MiCommand | undefined,
  request: Extract<ParsedRequest, { kind: 'call' }>,
  log: Logger,
): Promise<Outcome> {
  if (!command) return { error: JSONRPC_ERRORS.methodNotFound };
  try {
    return { result: await command.run(matchRecipe(command, request.params)) };
  } catch (error) {
    if (error instanceof MiError) return errorOf(error);
    const reason = errorMessage(error);
    log.error({ err: error, method: request.method }, `MI ${request.method} failed: ${reason}`);
    return errorOf(new MiError(JSONRPC_ERRORS.server.code, JSONRPC_ERRORS.server.message, reason));
  }
}

/**
 * The MI core's `which` (mi/mi_core.c) beside `commands`: without
 * parameters the names of every command, with `command` the parameter sets
 * it takes. opensips-cli asks it for the commands it may send.
 */
export function withWhich(commands: ReadonlyMap<string, MiCommand>): ReadonlyMap<string, MiCommand> {
  const all = new Map<string, MiCommand>();
  all.set('which', {
    namedOnly: false,
    recipes: [[], ['command']],
    run: async (params) => {
      if (!params.has('command')) return [...all.keys()];
      const command = all.get(params.string('command'));
      if (!command) throw new MiError(404, 'unknown MI command');
      return command.recipes;
    },
  });
  for (const [name, command] of commands) all.set(name, command);
  return all;
}

/**
 * POST /mi, and 405 for any other method on it, as mi_http answers. The
 * body comes as text (AdminRoute.bodyText) so that what is not JSON is
 * answered -32700, as JSON-RPC says, rather than by the admin server.
 */
export function miRoutes(commands: ReadonlyMap<string, MiCommand>, log: Logger): AdminRoute[] {
  const all = withWhich(commands);
  return [
    {
      method: 'POST',
      path: MI_PATH,
      bodyText: true,
      handler: (request) => answerMiRequest(typeof request.body === 'string' ? request.body : '', all, log),
    },
    { method: 'GET', path: MI_PATH, handler: async () => ({ status: 405, text: '', contentType: 'text/plain' }) },
  ];
}
