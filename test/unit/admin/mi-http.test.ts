import { describe, expect, it } from 'vitest';
import type { AdminReply } from '../../../src/admin/admin-contract.js';
import { answerMiRequest, type MiCommand, MiError, withWhich } from '../../../src/admin/mi-http.js';
import { createLogger } from '../../../src/log.js';
import { MI_HTTP_EXAMPLE } from './opensips-mi-examples.js';

/**
 * The JSON-RPC envelope of OpenSIPS's MI over HTTP (mi/mi.c, mi/item.c,
 * modules/mi_http of 3.5.9): what makes a request, which parameter set
 * (recipe) a call matches, and the error codes, messages and `data` of
 * each refusal, on commands that only echo what they were given.
 */

const log = createLogger('silent');

/** Answers its parameters as the command saw them, after the recipe matched. */
function echo(namedOnly: boolean, recipes: string[][]): MiCommand {
  return {
    namedOnly,
    recipes,
    run: async (params) =>
      Object.fromEntries(
        ['a', 'b', 'n']
          .filter((name) => params.has(name))
          .map((name) => [name, name === 'n' ? params.int(name) : params.string(name)]),
      ),
  };
}

const commands = new Map<string, MiCommand>([
  ['named', echo(true, [[], ['a'], ['a', 'b']])],
  ['positional', echo(false, [[], ['a'], ['b'], ['n']])],
  ['single', echo(false, [['n']])],
  [
    'fails',
    {
      namedOnly: false,
      recipes: [[], ['code']],
      run: async (params) => {
        if (params.has('code')) throw new MiError(404, 'GW ID not found');
        throw new Error('the store is unreachable');
      },
    },
  ],
]);

async function call(text: string): Promise<AdminReply> {
  return answerMiRequest(text, commands, log);
}

function body(reply: AdminReply): unknown {
  expect(reply.status).toBe(200);
  return 'body' in reply ? reply.body : undefined;
}

const request = (method: string, params?: unknown, id: unknown = 1) =>
  JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }), id });

describe('MI over HTTP: the envelope', () => {
  it('answers in the shape of the mi_http README example: jsonrpc, result, id, in that order, the id as sent', async () => {
    const documented = JSON.parse(MI_HTTP_EXAMPLE.reply) as Record<string, unknown>;
    const answer = body(await call(MI_HTTP_EXAMPLE.request.replace('"ps"', '"named"'))) as Record<string, unknown>;
    expect(Object.keys(answer)).toEqual(Object.keys(documented));
    expect(answer).toEqual({ jsonrpc: '2.0', result: {}, id: documented.id });
    expect(body(await call(request('named', {}, 'abc')))).toEqual({ jsonrpc: '2.0', result: {}, id: 'abc' });
    expect(body(await call(request('named', undefined, null)))).toEqual({ jsonrpc: '2.0', result: {}, id: null });
  });

  it('refuses what is not JSON (-32700) and what is not a JSON-RPC 2.0 request (-32600), with id null when it has none', async () => {
    expect(body(await call('{"jsonrpc":'))).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error' },
      id: null,
    });
    const invalid = { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' } };
    expect(body(await call('[{"jsonrpc":"2.0","method":"named","id":1}]'))).toEqual({ ...invalid, id: null });
    expect(body(await call('{"jsonrpc":"1.0","method":"named","id":7}'))).toEqual({ ...invalid, id: 7 });
    expect(body(await call('{"jsonrpc":"2.0","method":3,"id":7}'))).toEqual({ ...invalid, id: 7 });
    expect(body(await call('{"jsonrpc":"2.0","method":"named","params":"a","id":7}'))).toEqual({ ...invalid, id: 7 });
    expect(body(await call('{"jsonrpc":"2.0","method":"named","id":{"x":1}}'))).toEqual({ ...invalid, id: null });
    // Not even a request: answered although it has no id.
    expect(body(await call('{"method":"named"}'))).toEqual({ ...invalid, id: null });
  });

  it('answers an unknown method -32601', async () => {
    expect(body(await call(request('dr_nothing')))).toEqual({
      jsonrpc: '2.0',
      error: { code: -32601, message: 'Method not found' },
      id: 1,
    });
  });

  it('runs a notification (no id) and answers 202 without a body, as mi_http; an empty body is a 400', async () => {
    expect(await call('{"jsonrpc":"2.0","method":"fails","params":{"code":1}}')).toEqual({
      status: 202,
      text: '',
      contentType: 'text/plain',
    });
    expect(await call('{"jsonrpc":"2.0","method":"dr_nothing"}')).toMatchObject({ status: 202 });
    expect(await call('')).toMatchObject({ status: 400 });
  });

  it('matches exactly one recipe: the names given, or as many positional values (named-only commands refuse those)', async () => {
    const params = (data: string) => ({
      jsonrpc: '2.0',
      error: { code: -32602, message: 'Invalid params', data },
      id: 1,
    });
    expect(body(await call(request('named', { a: 'x', b: 2 })))).toMatchObject({ result: { a: 'x', b: '2' } });
    expect(body(await call(request('named', { b: 'x' })))).toEqual(params('Named parameters do not match'));
    expect(body(await call(request('named', { a: 1, b: 2, c: 3 })))).toEqual(params('Too few or too many parameters'));
    expect(body(await call(request('named', ['x'])))).toEqual(params('Command only supports named parameters'));
    expect(body(await call(request('single', [' 5'])))).toEqual(params("Bad type for parameter 'n'"));
    expect(body(await call(request('single', ['-5'])))).toMatchObject({ result: { n: -5 } });
    expect(body(await call(request('single', [7.9])))).toMatchObject({ result: { n: 7 } });
    expect(body(await call(request('single', [true])))).toEqual(params("Bad type for parameter 'n'"));
    expect(body(await call(request('single')))).toEqual(params('Too few or too many parameters'));
    expect(body(await call(request('single', [])))).toEqual(params('Too few or too many parameters'));
    expect(body(await call(request('positional', ['x'])))).toEqual(
      params('Ambiguous call, use named parameters instead'),
    );
  });

  it('answers which as the MI core does: every command, or the parameter sets of one (as opensips-cli asks), 404 for another', async () => {
    const all = withWhich(commands);
    const which = async (params?: unknown) => body(await answerMiRequest(request('which', params), all, log));
    expect(await which()).toMatchObject({ result: ['which', 'named', 'positional', 'single', 'fails'] });
    expect(await which({ command: 'named' })).toMatchObject({ result: [[], ['a'], ['a', 'b']] });
    expect(await which(['which'])).toMatchObject({ result: [[], ['command']] });
    expect(await which({ command: 'nope' })).toEqual({
      jsonrpc: '2.0',
      error: { code: 404, message: 'unknown MI command' },
      id: 1,
    });
  });

  it("sends a command's own error as it is, and an unexpected failure as -32000 with the reason", async () => {
    expect(body(await call(request('fails', { code: 1 })))).toEqual({
      jsonrpc: '2.0',
      error: { code: 404, message: 'GW ID not found' },
      id: 1,
    });
    expect(body(await call(request('fails')))).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Server error', data: 'the store is unreachable' },
      id: 1,
    });
  });
});
