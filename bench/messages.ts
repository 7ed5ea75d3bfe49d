import sip from 'sip';
import { splitHead } from '../src/sip/core/message-head.js';
import { parseMessage } from '../src/sip/native/parse-message.js';
import { writeMessage } from '../src/sip/native/write-message.js';
import { checkRawRequest } from '../src/sip/core/raw-request-check.js';
import { TRAFFIC } from '../test/support/sip-messages.js';

/**
 * `npm run bench` (messages part): what the native engine does to each
 * message it relays (split the head, check a request's raw lines, parse,
 * write), ours against the `sip` package's parse and stringify, in this
 * process: time per message over the INVITE, 180, REGISTER and 401 of
 * test/support/sip-messages.ts (the raw check's split is ours in both).
 */
const ROUNDS = 200_000;

function relayOurs(text: string): string {
  const head = splitHead(text);
  if (!text.startsWith('SIP/')) checkRawRequest(head, 'udp');
  const message = parseMessage(head);
  return message ? writeMessage(message) : '';
}

function relayWithSipPackage(text: string): string {
  if (!text.startsWith('SIP/')) checkRawRequest(splitHead(text), 'udp');
  const message = sip.parse(text);
  return message ? sip.stringify(message) : '';
}

/** The messages both can relay: the sip package throws writing the BYE's `Route: <tel:…>`, which ours keeps as text. */
const messages = Object.values(TRAFFIC).filter((text) => {
  try {
    return relayWithSipPackage(text) !== '';
  } catch {
    return false;
  }
});

/** Nanoseconds per message, after a warm-up. */
function measure(relay: (text: string) => string): number {
  for (let i = 0; i < 20_000; i++) relay(messages[i % messages.length] ?? '');
  let written = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) written += relay(messages[i % messages.length] ?? '').length;
  if (written === 0) throw new Error('nothing was written');
  return Number(process.hrtime.bigint() - start) / ROUNDS;
}

console.log(
  `messages benchmark: split, check, parse and write ${ROUNDS} messages (${messages.length} kinds in turn: INVITE, 180, REGISTER, 401), one process`,
);
for (let round = 1; round <= 3; round++) {
  const theirs = measure(relayWithSipPackage);
  const ours = measure(relayOurs);
  console.log(
    `  round ${round}: sip package ${theirs.toFixed(0)} ns a message, ours ${ours.toFixed(0)} ns (${(theirs / ours).toFixed(1)}x as fast)`,
  );
}
