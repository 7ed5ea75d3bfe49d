import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { AuthenticationFailure } from '../registrar/authentication-service.js';
import type { Endpoint } from '../sip/engine.js';
import { parseSipUri } from '../sip/core/uri.js';
import { AppendingFile, type FileTrouble } from './appending-file.js';
import * as lines from './core/asterisk-lines.js';

/**
 * The security events, one method each: every event gives its line to the
 * JSON log (warn, as before) and, with log.securityFile set, Asterisk's
 * plain line to that file, for fail2ban (asterisk-lines.ts). Callers write
 * no line of their own.
 */
export class SecurityLog {
  constructor(
    private readonly log: Logger,
    /** Where the plain lines go; undefined: the JSON log only. */
    private readonly file: AppendingFile | undefined,
    private readonly clock: Clock,
    private readonly pid: number,
  ) {}

  /** Who else learns of each refused request (the source guard, which bans at a threshold). */
  private refusalListener: ((source: Endpoint, user: string | undefined) => void) | undefined;

  onRefusal(listener: (source: Endpoint, user: string | undefined) => void): void {
    this.refusalListener = listener;
  }

  /** A REGISTER whose authentication failed (chan_sip's `Registration from … failed for …`). */
  registrationFailed(request: lines.RefusedRequest, reason: AuthenticationFailure): void {
    const message = lines.registrationFailed(request, reason);
    this.log.warn({ callId: request.callId, source: request.source.address }, message.text);
    this.write(message);
    this.refused(request.source, request.to?.uri, reason);
  }

  /** A call (a new request) whose caller check failed. */
  callRejected(request: lines.RefusedRequest & { uri: string }, reason: AuthenticationFailure): void {
    const { address, port } = request.source;
    const callee = parseSipUri(request.uri);
    const extension = callee.ok ? (callee.uri.user ?? '') : '';
    this.log.warn(
      { callId: request.callId, source: address },
      `Call from '${request.from?.uri ?? ''}' (${address}:${port}) to extension '${extension}' rejected because ${reason}`,
    );
    this.write(lines.callRejected(request, reason));
    this.refused(request.source, request.from?.uri, reason);
  }

  /** A request inside a dialog whose Route carries no valid dialog token (forged, or of another dialog). */
  inDialogRefused(request: lines.RefusedRequest): void {
    const { address, port } = request.source;
    this.log.warn(
      { callId: request.callId, source: address },
      `In-dialog ${request.method} from '${address}:${port}' refused - its Route carries no valid dialog token (forged, or of another dialog)`,
    );
    this.write(lines.inDialogRefused(request));
    this.refused(request.source, undefined, undefined);
  }

  /** A source banned for `seconds`: one line per ban, not per dropped packet. */
  sourceBanned(address: string, reason: string, seconds: number): void {
    const message = lines.sourceBanned(address, reason, seconds);
    this.log.warn({ source: address, seconds, reason }, message.text);
    this.write(message);
  }

  /** A request from a scanner (its User-Agent) dropped; the caller says it once per source and while, not per packet. */
  scannerDropped(address: string, userAgent: string): void {
    const message = lines.scannerDropped(address, userAgent);
    this.log.warn({ source: address, userAgent }, message.text);
    this.write(message);
  }

  /** Opens log.securityFile again (SIGHUP, after logrotate moved it). */
  reopen(): void {
    this.file?.reopen();
  }

  async close(): Promise<void> {
    await this.file?.close();
  }

  /** The user a refused request named (its To or From user), for the per-user count. */
  private refused(source: Endpoint, uri: string | undefined, reason: AuthenticationFailure | undefined): void {
    // A replayed nonce count is what a phone reusing its counts sends too: it gets a fresh challenge, not a strike (as for fail2ban).
    if (!this.refusalListener || reason === 'Nonce count replayed') return;
    const parsed = uri === undefined ? undefined : parseSipUri(uri);
    this.refusalListener(source, parsed?.ok ? parsed.uri.user : undefined);
  }

  private write(message: lines.AsteriskMessage): void {
    this.file?.append(lines.asteriskLine(this.clock.now(), this.pid, message));
  }
}

/** The security log of log.securityFile (empty: JSON only); a file that cannot be opened stops the start. */
export function openSecurityLog(securityFile: string, log: Logger, clock: Clock): SecurityLog {
  const file =
    securityFile === ''
      ? undefined
      : new AppendingFile(securityFile, (trouble) => reportTrouble(log, securityFile, trouble));
  return new SecurityLog(log, file, clock, process.pid);
}

function reportTrouble(log: Logger, path: string, trouble: FileTrouble): void {
  switch (trouble.kind) {
    case 'failed':
      log.error(
        { err: trouble.error, path },
        `security log ${path}: cannot append (${trouble.error instanceof Error ? trouble.error.message : String(trouble.error)}); its lines are lost, and fail2ban sees none, until SIGHUP opens it again`,
      );
      break;
    case 'behind':
      log.error(
        { path, pendingBytes: trouble.pendingBytes },
        `security log ${path}: the disk does not keep up (${trouble.pendingBytes} bytes waiting); lines are dropped until it catches up`,
      );
      break;
    case 'recovered':
      log.warn(
        { path, lost: trouble.lost },
        `security log ${path}: written again; ${trouble.lost} lines were lost meanwhile`,
      );
      break;
  }
}
