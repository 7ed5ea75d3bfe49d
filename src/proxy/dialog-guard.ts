import type { SecurityLog } from '../security-log/security-log.js';
import { endpointOfText, hostText } from '../sip/core/endpoint.js';
import type { Endpoint, SipRequest } from '../sip/engine.js';
import { findParam, parseSipUri } from '../sip/core/uri.js';
import { sameMac } from './core/short-mac.js';
import { DIALOG_TOKEN_PARAM, type DialogSigner, FLOW_MAC_PARAM, FLOW_PARAM } from './core/dialog-token.js';

/** What the guard reads of a request inside a dialog (the call router's and the engine's ACKs alike). */
export type InDialogRequest = Pick<SipRequest, 'method' | 'callId' | 'from' | 'to' | 'routes' | 'source'>;

/**
 * The signed-dialog check, one for every path that relays a request inside
 * a dialog: its top Route must carry the token of its dialog
 * (dialog-token.ts). A refused request goes to the security log, naming
 * its source, for people and for fail2ban.
 */
export class DialogGuard {
  constructor(
    private readonly signer: DialogSigner,
    private readonly security: Pick<SecurityLog, 'inDialogRefused'>,
  ) {}

  /** The parameter for the Record-Route of a request that starts a dialog. */
  recordRouteParam(request: Pick<SipRequest, 'callId' | 'from'>): { name: string; value: string } {
    return { name: DIALOG_TOKEN_PARAM, value: this.signer.token(request.callId ?? '', request.from?.tag ?? '') };
  }

  /**
   * The Record-Route parameters naming a WebSocket peer's connection on
   * one side of the dialog (RFC 7118 §5.2: its Contact, `*.invalid`, cannot
   * be reached): requests inside the dialog towards that side go down it.
   */
  flowParams(request: Pick<SipRequest, 'callId'>, flow: Endpoint): string {
    const text = `${flow.transport}:${hostText(flow.address)}:${flow.port}`;
    return `;${FLOW_PARAM}=${text};${FLOW_MAC_PARAM}=${this.signer.flowMac(request.callId ?? '', text)}`;
  }

  /** The connection a Record-Route entry of ours names for its side, when its MAC is the dialog's; undefined for any other entry. */
  flowOf(request: Pick<SipRequest, 'callId'>, route: string): Endpoint | undefined {
    if (!route.includes(FLOW_PARAM)) return undefined;
    const parsed = parseSipUri(route);
    if (!parsed.ok) return undefined;
    const flow = findParam(parsed.uri.params, FLOW_PARAM)?.value;
    const mac = findParam(parsed.uri.params, FLOW_MAC_PARAM)?.value;
    if (flow === undefined || mac === undefined) return undefined;
    const expected = this.signer.flowMac(request.callId ?? '', flow);
    if (!sameMac(mac, expected)) return undefined;
    const match = /^(ws|wss):(.+)$/.exec(flow);
    return match ? endpointOfText(`sip:${match[2] ?? ''};transport=${match[1] ?? ''}`) : undefined;
  }

  accepts(request: InDialogRequest): boolean {
    const top = request.routes[0];
    if (top !== undefined && this.signer.verify(top, request.callId ?? '', request.from?.tag, request.to?.tag))
      return true;
    this.security.inDialogRefused(request);
    return false;
  }
}
