import { describe, expect, it } from 'vitest';
import { gwListGrammar, parseGwList } from '../../../../src/routing/core/gateway-list.js';

// A weight not written is 0: OpenSIPS zeroes each entry before it reads one (routing.c parse_destination_list).
const item = (id: string, weight = 0, isReference = false) => ({ id, isReference, weight });

describe('gwlist grammar of OpenSIPS 3.x (routing.c parse_destination_list)', () => {
  it.each([
    ['1,2', [item('1'), item('2')]],
    ['gw1|gw2', [item('gw1'), item('gw2')]],
    [' #1 ', [item('1', 0, true)]],
    ['gw1=10, #carrier_a=5 ,gw-3.x=0', [item('gw1', 10), item('carrier_a', 5, true), item('gw-3.x', 0)]],
    ['gw1 = 7', [item('gw1', 7)]],
    ['gw1=+3,gw2=-2', [item('gw1', 3), item('gw2', -2)]],
    ['1,', [item('1')]],
    ['', []],
  ])('reads %j', (text, items) => {
    expect(parseGwList(text)).toEqual({ ok: true, items });
  });

  it.each([
    ['  ', 'the end at position 3 where an id (letters, digits, _ - .) was expected'],
    ['1,,2', '"," at position 3 where an id (letters, digits, _ - .) was expected'],
    ['1, ', 'the end at position 4 where an id (letters, digits, _ - .) was expected'],
    ['gw 1', '"1" at position 4 is not a separator (, |)'],
    ['gw1=x', 'the weight of gw1 at position 5 is not a whole number'],
    ['gw1=', 'the weight of gw1 at position 5 is not a whole number'],
    ['g@w', '"@" at position 2 is not a separator (, |)'],
    ['# 1', '" " at position 2 where an id (letters, digits, _ - .) was expected'],
    ['1,2;3', '";" at position 4 is not a separator (, |)'],
  ])('rejects %j', (text, error) => {
    expect(parseGwList(text)).toEqual({ ok: false, error });
  });
});

describe('gwlist grammar of OpenSIPS 1.x and Kamailio', () => {
  it.each(['opensips-1', 'kamailio'] as const)('%s: ; separates too, ids are integers', (dialect) => {
    const grammar = gwListGrammar(dialect);
    expect(parseGwList('1,2;3|#4', grammar)).toEqual({
      ok: true,
      items: [item('1'), item('2'), item('3'), item('4', 0, true)],
    });
    expect(parseGwList('gw1', grammar)).toEqual({
      ok: false,
      error: '"g" at position 1 where an id (digits) was expected',
    });
  });
});
