import { describe, expect, it } from 'vitest';
import { DialogGuard } from '../../../../src/proxy/dialog-guard.js';
import { DialogSigner } from '../../../../src/proxy/core/dialog-token.js';

const signer = new DialogSigner('shared-secret');
const token = signer.token('call-1@192.0.2.5', 'caller-tag');
const route = (params: string) => `sip:192.0.2.10:5060;transport=udp${params};lr`;

describe('dialog tokens', () => {
  it('are 22 base64url characters, the same for the same dialog and secret, different for any other', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(signer.token('call-1@192.0.2.5', 'caller-tag')).toBe(token);
    expect(
      new Set([
        token,
        signer.token('call-2@192.0.2.5', 'caller-tag'),
        signer.token('call-1@192.0.2.5', 'other-tag'),
        new DialogSigner('other-secret').token('call-1@192.0.2.5', 'caller-tag'),
      ]).size,
    ).toBe(4);
  });

  it('verify for a request from the caller (its From tag) and from the callee (its To tag)', () => {
    expect(signer.verify(route(`;drt=${token}`), 'call-1@192.0.2.5', 'caller-tag', 'callee-tag')).toBe(true);
    expect(signer.verify(route(`;drt=${token}`), 'call-1@192.0.2.5', 'callee-tag', 'caller-tag')).toBe(true);
  });

  it('do not verify without the parameter, for another dialog, cut short, or under another secret', () => {
    expect(signer.verify(route(''), 'call-1@192.0.2.5', 'caller-tag', 'callee-tag')).toBe(false);
    expect(signer.verify(route(`;drt=${token}`), 'call-2@192.0.2.5', 'caller-tag', 'callee-tag')).toBe(false);
    expect(signer.verify(route(`;drt=${token}`), 'call-1@192.0.2.5', 'someone', undefined)).toBe(false);
    expect(signer.verify(route(`;drt=${token.slice(0, 21)}`), 'call-1@192.0.2.5', 'caller-tag', undefined)).toBe(false);
    expect(
      new DialogSigner('other-secret').verify(route(`;drt=${token}`), 'call-1@192.0.2.5', 'caller-tag', undefined),
    ).toBe(false);
    expect(signer.verify('not a uri', 'call-1@192.0.2.5', 'caller-tag', undefined)).toBe(false);
  });

  it('do not verify, and do not throw, for 22 characters that are more than 22 bytes (a stranger writes what he likes)', () => {
    expect(signer.verify(route(`;drt=${'é'.repeat(22)}`), 'call-1@192.0.2.5', 'caller-tag', 'callee-tag')).toBe(false);
  });

  it('are the same made fresh, remembered, and made again after a flood of 60 000 other dialogs pushed them out of memory', () => {
    const fresh = new DialogSigner('shared-secret');
    const first = fresh.token('call-1@192.0.2.5', 'caller-tag');
    expect(fresh.token('call-1@192.0.2.5', 'caller-tag')).toBe(first);
    for (let i = 0; i < 60_000; i++) fresh.token(`forged-${i}`, 'x');
    expect(fresh.token('call-1@192.0.2.5', 'caller-tag')).toBe(first);
    expect(first).toBe(token);
    expect(fresh.verify(route(`;drt=${first}`), 'call-1@192.0.2.5', 'caller-tag', undefined)).toBe(true);
  });

  it('refuse an empty secret', () => {
    expect(() => new DialogSigner('')).toThrow(/secret is empty/);
  });
});

describe('flow tokens in our Record-Route (RFC 7118 §5.2)', () => {
  const guard = new DialogGuard(new DialogSigner('the nodes share this'), { inDialogRefused: () => undefined });
  const browser = { transport: 'wss' as const, address: '198.51.100.7', port: 40123 };
  const entry = (params: string) => `sip:192.0.2.10:8443;transport=wss;drt=TOKEN${params};lr`;

  it("names a WebSocket peer's connection for its dialog, and gives it back for that dialog only", () => {
    const params = guard.flowParams({ callId: 'call-1' }, browser);
    expect(params).toMatch(/^;drf=wss:198\.51\.100\.7:40123;drm=[\w-]{22}$/);
    expect(guard.flowOf({ callId: 'call-1' }, entry(params))).toEqual(browser);
    expect(guard.flowOf({ callId: 'call-2' }, entry(params))).toBeUndefined();
  });

  it('gives back nothing for a connection changed by hand, a MAC missing, or a flow that is no WebSocket one', () => {
    const params = guard.flowParams({ callId: 'call-1' }, browser);
    expect(guard.flowOf({ callId: 'call-1' }, entry(params.replace('40123', '40124')))).toBeUndefined();
    expect(guard.flowOf({ callId: 'call-1' }, entry(';drf=wss:198.51.100.7:40123'))).toBeUndefined();
    const tcp = guard.flowParams({ callId: 'call-1' }, { ...browser, transport: 'tcp' });
    expect(guard.flowOf({ callId: 'call-1' }, entry(tcp))).toBeUndefined();
    expect(guard.flowOf({ callId: 'call-1' }, 'sip:192.0.2.10;lr')).toBeUndefined();
    expect(
      guard.flowOf({ callId: 'call-1' }, entry(`;drf=wss:198.51.100.7:40123;drm=${'é'.repeat(22)}`)),
    ).toBeUndefined();
  });
});
