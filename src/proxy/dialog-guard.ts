import type { Logger } from '../log.js';
import type { SipRequest } from '../sip/engine.js';
import { DIALOG_TOKEN_PARAM, type DialogSigner } from './dialog-token.js';

/** What the guard reads of a request inside a dialog (the call router's and the engine's ACKs alike). */
export type InDialogRequest = Pick<SipRequest, 'method' | 'callId' | 'from' | 'to' | 'routes' | 'source'>;

/**
 * The signed-dialog check, one for every path that relays a request inside
 * a dialog: its top Route must carry the token of its dialog
 * (dialog-token.ts). A refused request gets a security line naming its
 * source, for people and for fail2ban.
 */
export class DialogGuard {
  constructor(
    private readonly signer: DialogSigner,
    private readonly log: Logger,
  ) {}

  /** The parameter for the Record-Route of a request that starts a dialog. */
  recordRouteParam(request: Pick<SipRequest, 'callId' | 'from'>): { name: string; value: string } {
    return { name: DIALOG_TOKEN_PARAM, value: this.signer.token(request.callId ?? '', request.from?.tag ?? '') };
  }

  accepts(request: InDialogRequest): boolean {
    const top = request.routes[0];
    if (top !== undefined && this.signer.verify(top, request.callId ?? '', request.from?.tag, request.to?.tag)) return true;
    const { address, port } = request.source;
    this.log.warn({ callId: request.callId, source: address }, `In-dialog ${request.method} from '${address}:${port}' refused - its Route carries no valid dialog token (forged, or of another dialog)`);
    return false;
  }
}
