import { describe, expect, it } from 'vitest';
import { parseGwList } from '../../../src/routing/gateway-list.js';

describe('gwlist grammar', () => {
  it.each([
    ['1,2', [{ id: '1', isReference: false, weight: 1 }, { id: '2', isReference: false, weight: 1 }]],
    ['gw1|gw2', [{ id: 'gw1', isReference: false, weight: 1 }, { id: 'gw2', isReference: false, weight: 1 }]],
    [' #1 ', [{ id: '1', isReference: true, weight: 1 }]],
    ['gw1=10, #carrier_a=5 ,gw-3.x=0', [
      { id: 'gw1', isReference: false, weight: 10 },
      { id: 'carrier_a', isReference: true, weight: 5 },
      { id: 'gw-3.x', isReference: false, weight: 0 },
    ]],
    ['1,2;3', [{ id: '1', isReference: false, weight: 1 }, { id: '2', isReference: false, weight: 1 }, { id: '3', isReference: false, weight: 1 }]],
  ])('parses %j', (text, items) => {
    expect(parseGwList(text)).toEqual({ ok: true, items });
  });

  it.each([
    ['', 'the list is empty'],
    ['  ', 'the list is empty'],
    ['1,,2', 'item 2 is empty (two separators in a row, or one at an end)'],
    ['1,', 'item 2 is empty (two separators in a row, or one at an end)'],
    ['gw 1', 'item "gw 1": an id is letters, digits, _ - . with an optional # before it and =weight after it'],
    ['gw1=x', 'item "gw1=x": the weight must be a whole number >= 0'],
    ['gw1=-2', 'item "gw1=-2": the weight must be a whole number >= 0'],
    ['g@w', 'item "g@w": an id is letters, digits, _ - . with an optional # before it and =weight after it'],
  ])('rejects %j', (text, error) => {
    expect(parseGwList(text)).toEqual({ ok: false, error });
  });
});
