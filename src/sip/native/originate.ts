import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Message } from 'sip';
import type { LocalAddress, OutgoingRequest, RequestOutcome } from '../engine.js';
import { localPort } from '../core/endpoint.js';
import { type AttemptHooks, ClientAttempt } from './client-attempt.js';
import { newBranch } from './native-proxy.js';
import { errorMessage } from '../../errors.js';
import { randomHex } from '../../random-pool.js';
import { writeMessage } from './write-message.js';

export interface OriginateDeps {
  /** Our address and port, for the Via and the Call-ID. */
  local: LocalAddress;
  /** The start of our branches (a worker's names it, so the response comes back to it). */
  branchPrefix: string | undefined;
  /** The engine's attempt hooks, with sends whose failure goes to `onSendError`. */
  hooks(onSendError: (error: unknown) => void): AttemptHooks;
}

/**
 * A request of our own (the prober's OPTIONS) as a client transaction:
 * a host name is resolved first (a failure is `send-failed` at once, as is
 * a transport that is not running); otherwise its final response, or a
 * timeout after `timeoutMs` with UDP retransmissions meanwhile.
 */
export async function originate(
  request: OutgoingRequest,
  options: { timeoutMs: number },
  deps: OriginateDeps,
): Promise<RequestOutcome> {
  let destination = request.destination;
  if (isIP(destination.address) === 0) {
    try {
      destination = { ...destination, address: (await lookup(destination.address)).address };
    } catch (error) {
      return { kind: 'send-failed', error: errorMessage(error) };
    }
  }
  const branch = newBranch(deps.branchPrefix);
  const message: Message = {
    method: request.method,
    uri: request.uri,
    version: '2.0',
    headers: {
      via: [
        {
          version: '2.0',
          protocol: destination.transport.toUpperCase(),
          host: deps.local.address,
          port: localPort(deps.local, destination.transport),
          params: { branch },
        },
      ],
      'max-forwards': '70',
      from: { uri: request.from, params: { tag: randomHex(6) } },
      to: { uri: request.uri, params: {} },
      'call-id': `${randomHex(10)}@${deps.local.address}`,
      cseq: { seq: 1, method: request.method },
      'content-length': 0,
    },
    content: '',
  };
  let sendError: unknown;
  const hooks = deps.hooks((error) => (sendError ??= error));
  const { headers } = message;
  const attemptRequest = {
    method: request.method,
    text: writeMessage(message),
    hop: {
      uri: request.uri,
      headers: {
        via: headers.via,
        from: headers.from,
        to: headers.to,
        'call-id': headers['call-id'],
        cseq: headers.cseq,
      },
    },
  };
  const attempt = new ClientAttempt(
    attemptRequest,
    branch,
    { uri: request.uri, destination, label: request.uri },
    hooks,
    {
      noResponseTimeoutMs: options.timeoutMs,
      inviteTimeoutMs: options.timeoutMs,
    },
  );
  attempt.start();
  if (sendError !== undefined) {
    attempt.abandon();
    return { kind: 'send-failed', error: errorMessage(sendError) };
  }
  const report = await attempt.finished;
  if (report.local) return { kind: 'timeout', rttMs: report.durationMs };
  return { kind: 'response', status: report.status, reason: report.reason, rttMs: report.durationMs };
}
