import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { cacheKeys } from '../../src/cache/keys.js';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { freePort } from '../support/drouter-process.js';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { header, responseTo } from '../support/message-text.js';
import { escapeRegExp } from '../support/regexp.js';
import { RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { deleteKeys } from '../support/redis-keys.js';
import { describeUnless, redisMissing } from '../support/skip-reason.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';

const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL ?? '';
const NODE_1 = '127.0.0.235';
const NODE_2 = '127.0.0.236';
const PHONE = '127.0.0.237';
const SBC = '127.0.0.238';
const STRANGER = '127.0.0.239';

/**
 * Several nodes active at once (ha.nodeAddress, docs/ha.md "More than two
 * nodes"): a phone registered through node 1 is called through node 2;
 * node 2 sends the call to node 1 with a signed Route and node 1 sends it to
 * the phone, as a stored Path would have it, so the phone sees it come from
 * the node it registered with. Node 1 gone: node 2 sends it straight. A
 * stranger's made-up Route to node 1 is not sent on. Nodes on
 * 127.0.0.235/236 sharing Redis (DROUTER_TEST_REDIS_URL), the phone on .237,
 * an SBC (trusted) on .238, a stranger on .239.
 */
describeUnless(redisMissing() || (testEngine === 'native' ? '' : 'ha.nodeAddress works on the native engine only'))(
  'several nodes active at once',
  () => {
    const keyPrefix = `sipdr-test:${process.pid}:nodes:`;
    let node1: TestServer;
    let node2: TestServer;
    let phone: UdpPeer;
    let sbc: UdpPeer;
    let stranger: UdpPeer;

    beforeAll(async () => {
      const [port1, port2] = [await freePort(), await freePort()];
      const node = (address: string, port: number) =>
        startTestServer(
          address,
          {
            cache: { url: REDIS_TEST_URL, keyPrefix },
            registrar: { nonceSecret: 'shared by the nodes' },
            ha: { nodeAddress: `${address}:${port}`, lease: { ttlMs: 3000, renewIntervalMs: 1000 } },
            proxy: { timeoutMs: 1000 },
            auth: { trustedSources: [`${SBC}/32`] },
          },
          undefined,
          port,
        );
      node1 = await node(NODE_1, port1);
      node2 = await node(NODE_2, port2);
      phone = await UdpPeer.bind(PHONE);
      sbc = await UdpPeer.bind(SBC);
      stranger = await UdpPeer.bind(STRANGER);
      expect(statusOf(await new RegisteringPhone(phone, node1.sip).register('1001', 'secret1001'))).toBe(200);
    }, 30_000);

    afterAll(async () => {
      phone?.close();
      sbc?.close();
      stranger?.close();
      await node1?.close();
      await node2?.close();
      if (REDIS_TEST_URL) await deleteKeys(REDIS_TEST_URL, cacheKeys(keyPrefix).all);
    });

    it('keeps the node the phone registered with in its binding', async () => {
      const redis = new Redis(REDIS_TEST_URL);
      try {
        const stored = JSON.parse((await redis.get(cacheKeys(keyPrefix).bindings('1001'))) ?? '[]') as {
          node?: string;
        }[];
        expect(stored.map((binding) => binding.node)).toEqual([`${NODE_1}:${node1.sip.port}`]);
      } finally {
        redis.disconnect();
      }
    });

    it("sends a call taken by node 2 to the phone through node 1, and the dialog's BYE the same way", async () => {
      const call = inviteFrom(sbc, `${NODE_2}:${node2.sip.port}`, '1001');
      sbc.send(call.invite, node2.sip);
      const invite = await phone.receive(
        new RegExp(
          `^INVITE sip:1001@${escapeRegExp(PHONE)}:${phone.address.port}[\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}`,
        ),
        4000,
      );
      expect(invite).toBeDefined();
      // The top Via is the last hop's: node 1, where the phone's NAT pinhole leads.
      expect(header(invite, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP ${escapeRegExp(NODE_1)}:${node1.sip.port};`));
      const recordRoute = header(invite, 'Record-Route').join(', ');
      expect(recordRoute).toContain(`sip:${NODE_1}:${node1.sip.port}`);
      expect(recordRoute).toContain(`sip:${NODE_2}:${node2.sip.port}`);
      phone.send(responseTo(invite ?? '', 200, 'OK', `sip:1001@${PHONE}:${phone.address.port}`), node1.sip);
      const ok = await finalResponse(sbc, call);
      expect(statusOf(ok)).toBe(200);

      // The caller's route set is the 200's Record-Route in reverse (RFC 3261 §12.1.2): node 2 first, then node 1.
      const routes = header(ok, 'Record-Route')
        .flatMap((value) => value.split(/,\s*/))
        .reverse();
      const bye = sipRequest([
        `BYE sip:1001@${PHONE}:${phone.address.port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${SBC}:${sbc.address.port};branch=z9hG4bK-bye-nodes;rport`,
        'Max-Forwards: 70',
        `From: "Phone 1001" <sip:1001@127.0.0.1>;tag=${call.fromTag}`,
        `To: <sip:1001@${NODE_2}:${node2.sip.port}>;tag=phone-200`,
        `Call-ID: ${call.callId}`,
        'CSeq: 2 BYE',
        ...routes.map((route) => `Route: ${route}`),
      ]);
      sbc.send(bye, node2.sip);
      const byeAtPhone = await phone.receive(new RegExp(`^BYE [\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}`), 4000);
      expect(header(byeAtPhone, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP ${escapeRegExp(NODE_1)}:`));
    });

    it('does not send on a Route to node 1 that no node signed: the stranger is challenged and nothing reaches the address he named', async () => {
      const victim = await UdpPeer.bind('127.0.0.240');
      try {
        const forged = sipRequest([
          `INVITE sip:0044900123456@127.0.0.240:${victim.address.port} SIP/2.0`,
          `Via: SIP/2.0/UDP ${STRANGER}:${stranger.address.port};branch=z9hG4bK-forged-relay;rport`,
          'Max-Forwards: 70',
          `From: <sip:1001@${NODE_1}>;tag=forged`,
          `To: <sip:0044900123456@${NODE_1}>`,
          'Call-ID: forged-relay@127.0.0.239',
          'CSeq: 1 INVITE',
          `Route: <sip:${NODE_1}:${node1.sip.port};lr;drn-to=udp:127.0.0.240:${victim.address.port};drn-until=${Math.floor(Date.now() / 1000) + 30};drn=AAAAAAAAAAAAAAAAAAAAAA>`,
          `Contact: <sip:1001@${STRANGER}:${stranger.address.port}>`,
        ]);
        stranger.send(forged, node1.sip);
        expect(
          statusOf(await stranger.receive(/^SIP\/2\.0 [3-6]\d\d [\s\S]*Call-ID: forged-relay@127\.0\.0\.239/, 4000)),
        ).toBe(407);
        expect(await victim.receive(/INVITE/, 500)).toBeUndefined();
      } finally {
        victim.close();
      }
    });

    it('with node 1 gone, node 2 gets no answer from it within proxy.timeoutMs and sends the call straight to the phone', async () => {
      await node1.close();
      const started = Date.now();
      const call = inviteFrom(sbc, `${NODE_2}:${node2.sip.port}`, '1001');
      sbc.send(call.invite, node2.sip);
      const invite = await phone.receive(new RegExp(`^INVITE [\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}`), 6000);
      expect(header(invite, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP ${escapeRegExp(NODE_2)}:${node2.sip.port};`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      phone.send(responseTo(invite ?? '', 200, 'OK', `sip:1001@${PHONE}:${phone.address.port}`), node2.sip);
      expect(statusOf(await finalResponse(sbc, call))).toBe(200);
    });
  },
);
