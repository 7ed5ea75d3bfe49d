import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load.js';
import { CONFIG_LEAVES } from '../../../src/config/schema-leaves.js';
import { configSchema } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';
import { REPO_ROOT } from '../../support/repo-root.js';

const CONFIG_DIR = join(REPO_ROOT, 'config');

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('config/default.yaml states exactly the defaults built into the schema', () => {
    const fromFile = resolveConfig(readFileSync(join(CONFIG_DIR, 'default.yaml'), 'utf8'), 'default.yaml', {});
    expect(fromFile).toEqual(configSchema.parse({}));
    expect(fromFile.store.url).toBe('sqlite:data/drouter.db');
    expect(fromFile.sip).toMatchObject({
      engine: 'native',
      address: '127.0.0.1',
      port: 5060,
      transports: ['udp', 'tcp'],
    });
    expect(fromFile.admin).toEqual({ address: '127.0.0.1', port: 8080, token: '', allowedHosts: [], openReads: [] });
    expect(fromFile.cache.url).toBe('memory');
  });

  it('config/production.example.yaml is valid and uses MariaDB, Redis and drachtio', () => {
    const config = resolveConfig(
      readFileSync(join(CONFIG_DIR, 'production.example.yaml'), 'utf8'),
      'production.example.yaml',
      {},
    );
    expect(config.store.url).toMatch(/^mysql:\/\//);
    expect(config.cache.url).toMatch(/^redis:\/\//);
    expect(config.sip.engine).toBe('drachtio');
  });

  it('an environment variable overrides the file, typed by the schema', () => {
    const config = resolveConfig('sip:\n  port: 5060\n', 'test.yaml', {
      DROUTER_SIP__PORT: '5070',
      DROUTER_STORE__URL: 'mysql://root@127.0.0.1:3306/test',
      DROUTER_ADMIN__PORT: '9090',
      DROUTER_SIP__TRANSPORTS: 'udp',
      DROUTER_STORE__SEED_EXAMPLE: 'no',
      DROUTER_SIP__DRACHTIO__SECRET: '12345',
    });
    expect(config.sip.port).toBe(5070);
    expect(config.sip.transports).toEqual(['udp']);
    expect(config.admin.port).toBe(9090);
    expect(config.store).toEqual({ url: 'mysql://root@127.0.0.1:3306/test', seedExample: false });
    expect(config.sip.drachtio.secret).toBe('12345');
  });

  it('names every environment variable after its key path', () => {
    const names = Object.fromEntries(CONFIG_LEAVES.map((leaf) => [leaf.key, leaf.envName]));
    expect(names['store.url']).toBe('DROUTER_STORE__URL');
    expect(names['sip.port']).toBe('DROUTER_SIP__PORT');
    expect(names['store.seedExample']).toBe('DROUTER_STORE__SEED_EXAMPLE');
    expect(names['sip.drachtio.secret']).toBe('DROUTER_SIP__DRACHTIO__SECRET');
  });

  it('reports every violation at once, with key, value, source and what is allowed', () => {
    const error = configErrorOf(() =>
      resolveConfig('sip:\n  engine: kamailio\n  port: 99999\nadmin:\n  adress: 1.2.3.4\n', 'bad.yaml', {
        DROUTER_STORE__URL: 'postgres://u:topsecret@h/db',
        DROUTER_CACHE__URL: 'memcached://x',
      }),
    );
    expect(error.code).toBe('DROUTER_ERR_CONFIG');
    const byKey = Object.fromEntries(error.violations.map((v) => [v.key, v]));
    expect(Object.keys(byKey).sort()).toEqual(['admin.adress', 'cache.url', 'sip.engine', 'sip.port', 'store.url']);
    expect(byKey['sip.engine']).toMatchObject({
      value: 'kamailio',
      allowed: 'one of native, drachtio',
      source: 'bad.yaml',
    });
    expect(byKey['sip.port']).toMatchObject({ value: 99999, allowed: 'an integer port from 1 to 65535' });
    expect(byKey['store.url']).toMatchObject({
      source: 'DROUTER_STORE__URL',
      allowed: 'sqlite:PATH or mysql://user:pass@host:port/db',
    });
    expect(byKey['admin.adress']?.allowed).toBe('not a configuration key; did you mean admin.address?');
    expect(error.message).toContain('sip.port = 99999 (from bad.yaml): an integer port from 1 to 65535');
    expect(error.message).toContain(
      'cache.url = "memcached://x" (from DROUTER_CACHE__URL): memory or redis://host:port/db',
    );
  });

  it("routing: extraPrefixChars takes + * # (OpenSIPS's alphabet is digits) but no digit; repeatGateways and zeroWeightOrder take their names", () => {
    expect(resolveConfig("routing:\n  extraPrefixChars: '+*#'\n", 'ok.yaml', {}).routing.extraPrefixChars).toBe('+*#');
    const error = configErrorOf(() =>
      resolveConfig(
        "routing:\n  extraPrefixChars: '+1'\n  repeatGateways: twice\n  zeroWeightOrder: first\n",
        'bad.yaml',
        {},
      ),
    );
    expect(error.violations.map((v) => [v.key, v.allowed])).toEqual([
      [
        'routing.extraPrefixChars',
        'printable ASCII characters other than digits (those are always allowed), such as +*#',
      ],
      ['routing.repeatGateways', 'as-listed (OpenSIPS: a gateway listed twice is offered twice) or once'],
      ['routing.zeroWeightOrder', 'list (OpenSIPS 3.5.9) or random (OpenSIPS master, PR #3867)'],
    ]);
  });

  it('requires an admin token when the admin API listens beyond loopback', () => {
    const error = configErrorOf(() => resolveConfig('admin:\n  address: 198.18.0.1\n', 'open.yaml', {}));
    expect(error.violations).toEqual([
      {
        key: 'admin.token',
        value: undefined,
        allowed: 'printable ASCII without spaces; required when admin.address is not a loopback address',
        source: 'open.yaml',
      },
    ]);
    expect(
      resolveConfig('admin:\n  address: 198.18.0.1\n', 'open.yaml', { DROUTER_ADMIN__TOKEN: 's3cret' }).admin.token,
    ).toBe('s3cret');
    expect(resolveConfig('admin:\n  address: 127.0.0.9\n', 'local.yaml', {}).admin.token).toBe('');
  });

  it('takes ha.nodeAddress as an IP address and port, with a cache the nodes share, on the native engine', () => {
    const shared = { DROUTER_CACHE__URL: 'redis://127.0.0.1:6379/0' };
    expect(resolveConfig("ha:\n  nodeAddress: '198.18.0.11:5060'\n", 'node.yaml', shared).ha.nodeAddress).toBe(
      '198.18.0.11:5060',
    );
    expect(resolveConfig("ha:\n  nodeAddress: '[2001:db8::11]:5060'\n", 'node.yaml', shared).ha.nodeAddress).toBe(
      '[2001:db8::11]:5060',
    );
    for (const wrong of ['sip1.example.net:5060', '198.18.0.11', '2001:db8::11:5060', '[198.18.0.11]:5060']) {
      expect(
        configErrorOf(() => resolveConfig(`ha:\n  nodeAddress: '${wrong}'\n`, 'node.yaml', shared)).violations.map(
          (v) => v.key,
        ),
      ).toEqual(['ha.nodeAddress']);
    }
    const allowed =
      'address:port this node takes SIP on, as the other nodes reach it (198.18.0.11:5060), with a cache the nodes share (cache.url redis://) on the native engine; empty: calls go straight to every phone';
    expect(
      configErrorOf(() => resolveConfig("ha:\n  nodeAddress: '198.18.0.11:5060'\n", 'node.yaml', {})).violations,
    ).toEqual([{ key: 'ha.nodeAddress', value: '198.18.0.11:5060', allowed, source: 'node.yaml' }]);
    expect(
      configErrorOf(() =>
        resolveConfig("ha:\n  nodeAddress: '198.18.0.11:5060'\nsip:\n  engine: drachtio\n", 'node.yaml', shared),
      ).violations.map((v) => v.key),
    ).toEqual(['ha.nodeAddress']);
  });

  it('takes tls in sip.transports only with a certificate and key, on a port of its own, on the native engine', () => {
    const tls = 'sip:\n  transports: [udp, tls]\n';
    expect(configErrorOf(() => resolveConfig(tls, 'tls.yaml', {})).violations.map((v) => v.key)).toEqual([
      'sip.tls.certificateFile',
      'sip.tls.keyFile',
    ]);
    const files = {
      DROUTER_SIP__TLS__CERTIFICATE_FILE: '/etc/sip/cert.pem',
      DROUTER_SIP__TLS__KEY_FILE: '/etc/sip/key.pem',
    };
    expect(resolveConfig(tls, 'tls.yaml', files).sip.tls).toEqual({
      port: 5061,
      certificateFile: '/etc/sip/cert.pem',
      keyFile: '/etc/sip/key.pem',
      caFile: '',
      clientCertificates: 'none',
      verifyServers: true,
    });
    expect(
      configErrorOf(() => resolveConfig(tls, 'tls.yaml', { ...files, DROUTER_SIP__TLS__PORT: '5060' })).violations.map(
        (v) => v.key,
      ),
    ).toEqual(['sip.tls.port']);
    expect(
      configErrorOf(() => resolveConfig(`${tls}  engine: drachtio\n`, 'tls.yaml', files)).violations.map((v) => v.key),
    ).toEqual(['sip.transports']);
  });

  it('takes ws and wss on ports of their own, wss only with the certificate of sip.tls, and web origins as scheme://host[:port]', () => {
    const ws = 'sip:\n  transports: [udp, ws, wss]\n';
    expect(configErrorOf(() => resolveConfig(ws, 'ws.yaml', {})).violations.map((v) => v.key)).toEqual([
      'sip.tls.certificateFile',
      'sip.tls.keyFile',
    ]);
    const files = {
      DROUTER_SIP__TLS__CERTIFICATE_FILE: '/etc/sip/cert.pem',
      DROUTER_SIP__TLS__KEY_FILE: '/etc/sip/key.pem',
    };
    expect(resolveConfig(ws, 'ws.yaml', files).sip.websocket).toEqual({
      port: 8080,
      securePort: 8443,
      allowedOrigins: [],
    });
    expect(
      configErrorOf(() =>
        resolveConfig(ws, 'ws.yaml', { ...files, DROUTER_SIP__WEBSOCKET__SECURE_PORT: '8080' }),
      ).violations.map((v) => v.key),
    ).toEqual(['sip.websocket.securePort']);
    expect(
      configErrorOf(() =>
        resolveConfig(`${ws}  websocket:\n    allowedOrigins: [phone.example.com]\n`, 'ws.yaml', files),
      ).violations.map((v) => v.key),
    ).toEqual(['sip.websocket.allowedOrigins']);
    expect(
      resolveConfig(`${ws}  websocket:\n    allowedOrigins: ['https://phone.example.com:8443']\n`, 'ws.yaml', files).sip
        .websocket.allowedOrigins,
    ).toEqual(['https://phone.example.com:8443']);
  });

  it('never prints a password from a URL', () => {
    const error = configErrorOf(() =>
      resolveConfig('', 'x.yaml', { DROUTER_STORE__URL: 'postgres://u:topsecret@h/db' }),
    );
    expect(error.message).toContain('postgres://u:***@h/db');
    expect(error.message).not.toContain('topsecret');
  });

  it('rejects a number that is not a number and an unknown DROUTER_ variable', () => {
    const error = configErrorOf(() =>
      resolveConfig('', 'x.yaml', { DROUTER_SIP__PORT: 'fivethousand', DROUTER_SIP__PROT: '5060' }),
    );
    expect(error.violations.map((v) => [v.key, v.value])).toEqual([
      ['DROUTER_SIP__PROT', '5060'],
      ['sip.port', 'fivethousand'],
    ]);
  });

  it("names the nearest key of a typo'd DROUTER_ variable or file key, and none for a name near no key", () => {
    const error = configErrorOf(() =>
      resolveConfig('sip:\n  prot: 5070\nadmni:\n  port: 1\n', 'x.yaml', {
        DROUTER_SIP_PORT: '5070',
        DROUTER_ADMIN__TOKN: 't',
        DROUTER_STORE__SEEDEXAMPLE: 'no',
        DROUTER_FLUX_CAPACITOR: '1',
      }),
    );
    const allowed = Object.fromEntries(error.violations.map((v) => [v.key, v.allowed]));
    expect(allowed.DROUTER_SIP_PORT).toMatch(
      /^no such configuration key; did you mean DROUTER_SIP__PORT\? \(variables are DROUTER_/,
    );
    expect(allowed.DROUTER_ADMIN__TOKN).toContain('did you mean DROUTER_ADMIN__TOKEN?');
    expect(allowed.DROUTER_STORE__SEEDEXAMPLE).toContain('did you mean DROUTER_STORE__SEED_EXAMPLE?');
    expect(allowed.DROUTER_FLUX_CAPACITOR).not.toContain('did you mean');
    expect(allowed['sip.prot']).toBe('not a configuration key; did you mean sip.port?');
    expect(allowed.admni).toBe('not a configuration key; did you mean admin?');
    expect(error.message).toContain(
      'DROUTER_SIP_PORT = "5070" (from environment): no such configuration key; did you mean DROUTER_SIP__PORT?',
    );
  });

  it('accepts the DROUTER_CONFIG and DROUTER_TEST_* variables that are not keys', () => {
    const config = resolveConfig('', 'x.yaml', { DROUTER_CONFIG: 'x.yaml', DROUTER_TEST_MYSQL_URL: 'mysql://x/y' });
    expect(config.sip.port).toBe(5060);
  });

  it('rejects YAML that does not parse and a file that is not a mapping', () => {
    expect(configErrorOf(() => resolveConfig('sip: [unclosed', 'broken.yaml', {})).message).toMatch(
      /broken\.yaml.*valid YAML/,
    );
    expect(configErrorOf(() => resolveConfig('- a\n- b\n', 'list.yaml', {})).violations[0]?.allowed).toMatch(/mapping/);
  });

  it('returns a frozen configuration', () => {
    const config = resolveConfig('', 'x.yaml', {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sip.transports)).toBe(true);
  });
});
