import type { SecurityLog } from '../security-log/security-log.js';
import type { SipRequest } from '../sip/engine.js';
import { DIALOG_TOKEN_PARAM, type DialogSigner } from './dialog-token.js';

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

  accepts(request: InDialogRequest): boolean {
    const top = request.routes[0];
    if (top !== undefined && this.signer.verify(top, request.callId ?? '', request.from?.tag, request.to?.tag)) return true;
    this.security.inDialogRefused(request);
    return false;
  }
}
