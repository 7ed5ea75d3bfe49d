import { detached } from '../../core/detached-string.js';
import { findParam, parseSipUri } from '../../sip/core/uri.js';
import { derivedKey, MAC_CHARACTERS, sameMac, shortMac } from './short-mac.js';

/**
 * Signed dialogs: the Record-Route we put in a dialog-creating request
 * carries a token, an HMAC over what identifies the dialog (its Call-ID and
 * the caller's tag) with the secret the nodes share; a request inside a
 * dialog is ours to relay only when its top Route carries that token. No
 * dialog table: any node of a pair, before or after a restart, checks it
 * the same way. Pure but for a bounded memory of the tokens it made.
 */

/** The Record-Route URI parameter that holds the token. */
export const DIALOG_TOKEN_PARAM = 'drt';
/** Separates these MACs from the other uses of the same secret. */
const LABEL = 'sip-drouter dialog token v1';
/** How many dialogs' tokens are remembered (about 100 bytes each). */
const RECENT_TOKENS = 50_000;

/** The Record-Route URI parameters of a flow: the connection a WebSocket peer on that side holds, and its MAC. */
export const FLOW_PARAM = 'drf';
export const FLOW_MAC_PARAM = 'drm';
const FLOW_LABEL = 'sip-drouter flow token v1';

export class DialogSigner {
  private readonly key: Buffer;
  private readonly flowKey: Buffer;

  constructor(secret: string) {
    if (secret === '') throw new RangeError('the dialog token secret is empty');
    this.key = derivedKey(secret, LABEL);
    this.flowKey = derivedKey(secret, FLOW_LABEL);
  }

  /** The MAC that ties a flow (`ws:198.51.100.7:40123`) to its dialog's Call-ID: no one can point a dialog at another peer's connection. */
  flowMac(callId: string, flow: string): string {
    return shortMac(this.flowKey, `${callId}\n${flow}`);
  }

  /** Tokens made lately, by `Call-ID\ntag`: a call's ACK and BYE are checked against its INVITE's token without two HMACs each. */
  private readonly recent = new Map<string, string>();

  /** The token of the dialog that `callId` and the caller's From tag identify. */
  token(callId: string, callerTag: string): string {
    const input = `${callId}\n${callerTag}`;
    const known = this.recent.get(input);
    if (known !== undefined) return known;
    const token = shortMac(this.key, input);
    // The oldest goes first: a flood of forged dialogs costs HMACs again, never memory.
    if (this.recent.size >= RECENT_TOKENS) this.recent.delete(this.recent.keys().next().value ?? '');
    // A copy of the key: the Call-ID and tag are views of the datagram they came in.
    this.recent.set(detached(input), token);
    return token;
  }

  /**
   * Whether `route` (the request's top Route, ours) carries the token of
   * its dialog. The caller's tag is the From tag of a request from the
   * caller and the To tag of one from the callee, so either may be it.
   */
  verify(route: string, callId: string, fromTag: string | undefined, toTag: string | undefined): boolean {
    const parsed = parseSipUri(route);
    const given = parsed.ok ? findParam(parsed.uri.params, DIALOG_TOKEN_PARAM)?.value : undefined;
    if (given === undefined || given.length !== MAC_CHARACTERS) return false;
    let match = false;
    for (const tag of [fromTag, toTag]) {
      // Both compared, in constant time, whichever matches.
      if (tag !== undefined && sameMac(given, this.token(callId, tag))) match = true;
    }
    return match;
  }
}
