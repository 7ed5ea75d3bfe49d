// The page of a browser phone (test/support/browser-phone.ts): SIP.js from
// npm over WSS with its own WebRTC media handler, as a web phone runs it.
// The test drives it through window.phone and reads window.phone.events.
import { Inviter, Registerer, SessionState, UserAgent } from '/sip.js/index.js';

const events = [];
let userAgent;
let registerer;
let session;

function follow(newSession) {
  session = newSession;
  newSession.stateChange.addListener((state) => events.push(`session ${state}`));
  // The ACK of our 2xx, when we are called (SIP.js accepts a BYE by itself: no onBye here).
  newSession.delegate = { onAck: () => events.push('ACK') };
}

// Each response the way a phone's screen would show it, in the order they came.
const responseEvents = (what) => ({
  onProgress: (response) => events.push(`${what} ${response.message.statusCode}`),
  onAccept: (response) => events.push(`${what} ${response.message.statusCode}`),
  onReject: (response) => events.push(`${what} ${response.message.statusCode}`),
});

// Audio only, from Chromium's fake device; no STUN or TURN server: host candidates only.
const audioOnly = { constraints: { audio: true, video: false } };

window.phone = {
  events,

  async register({ server, user, password, domain }) {
    userAgent = new UserAgent({
      uri: UserAgent.makeURI(`sip:${user}@${domain}`),
      transportOptions: { server },
      authorizationUsername: user,
      authorizationPassword: password,
      logLevel: 'error',
      sessionDescriptionHandlerFactoryOptions: {
        iceGatheringTimeout: 500,
        peerConnectionConfiguration: { iceServers: [] },
      },
      delegate: {
        onInvite: (invitation) => {
          events.push(`invited by ${invitation.remoteIdentity.uri.user}`);
          follow(invitation);
        },
      },
    });
    await userAgent.start();
    registerer = new Registerer(userAgent, { expires: 600 });
    registerer.stateChange.addListener((state) => events.push(`registration ${state}`));
    await registerer.register({ requestDelegate: responseEvents('REGISTER') });
  },

  async call(target) {
    const inviter = new Inviter(userAgent, UserAgent.makeURI(target), { sessionDescriptionHandlerOptions: audioOnly });
    follow(inviter);
    await inviter.invite({ requestDelegate: responseEvents('INVITE') });
  },

  async answer() {
    await session.accept({ sessionDescriptionHandlerOptions: audioOnly });
  },

  async hangUp() {
    if (session.state === SessionState.Established) await session.bye();
  },

  // The call's WebRTC media as the peer connection sees it, and the audio bytes received so far.
  async media() {
    const peerConnection = session?.sessionDescriptionHandler?.peerConnection;
    if (!peerConnection) return undefined;
    let audioBytesReceived = 0;
    for (const report of (await peerConnection.getStats()).values()) {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') audioBytesReceived += report.bytesReceived;
    }
    return { connectionState: peerConnection.connectionState, audioBytesReceived };
  },
};
