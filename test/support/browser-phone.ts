import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { TestCertificates } from './test-certificates.js';
import { waitFor } from './wait-for.js';

/** Debian's chromium, and certutil (libnss3-tools) to give it a trust store with the test CA. */
const PROGRAMS = [
  { path: '/usr/bin/chromium', debianPackage: 'chromium' },
  { path: '/usr/bin/certutil', debianPackage: 'libnss3-tools' },
] as const;

/**
 * '' where Chromium and certutil are installed; else why the browser tests
 * cannot run, or a failure where DROUTER_TEST_BROWSER is set (as .ci/run sets it).
 */
export function browserMissing(): string {
  const missing = PROGRAMS.filter(
    ({ path }) => spawnSync(path, ['--version'], { timeout: 10_000 }).error !== undefined,
  );
  if (missing.length === 0) return '';
  const install = `apt-get install ${missing.map((m) => m.debianPackage).join(' ')}`;
  if (process.env.DROUTER_TEST_BROWSER)
    throw new Error(
      `DROUTER_TEST_BROWSER is set but ${missing.map((m) => m.path).join(' and ')} cannot run (${install})`,
    );
  return `${missing.map((m) => m.path).join(' and ')} not installed (${install})`;
}

/** The page (index.html, phone.js) beside this file, and SIP.js's ES modules as npm installed them (no bundler: they import each other by relative path). */
const PAGE_FOLDER = join(dirname(fileURLToPath(import.meta.url)), 'browser-phone');
const SIPJS_FOLDER = dirname(createRequire(import.meta.url).resolve('sip.js'));
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** The file a path of the page's server names, or undefined outside the two folders. */
function fileOf(urlPath: string): string | undefined {
  const [folder, rest] = urlPath.startsWith('/sip.js/')
    ? [SIPJS_FOLDER, urlPath.slice('/sip.js/'.length)]
    : [PAGE_FOLDER, urlPath === '/' ? 'index.html' : urlPath.slice(1)];
  const file = normalize(join(folder, rest));
  return file.startsWith(`${folder}/`) && CONTENT_TYPES[extname(file)] ? file : undefined;
}

/**
 * A home folder whose NSS database (~/.pki/nssdb, where Chromium on Linux
 * keeps the user's trust anchors) trusts the test CA for servers: Chromium
 * then checks our certificates as it checks any site's, chain and IP
 * subjectAltName, instead of being told to ignore errors.
 */
function homeTrusting(certificates: TestCertificates): string {
  const home = join(certificates.directory, 'chromium-home');
  const database = `sql:${join(home, '.pki', 'nssdb')}`;
  mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
  execFileSync('/usr/bin/certutil', ['-N', '-d', database, '--empty-password'], { stdio: 'pipe' });
  execFileSync(
    '/usr/bin/certutil',
    [
      '-A',
      '-d',
      database,
      '-n',
      certificates.authority.name,
      '-t',
      'C,,',
      '-i',
      certificates.authority.certificateFile,
    ],
    { stdio: 'pipe' },
  );
  return home;
}

/** What phone.js puts on the page's window. */
interface PagePhone {
  events: string[];
  register(account: { server: string; user: string; password: string; domain: string }): Promise<void>;
  call(target: string): Promise<void>;
  answer(): Promise<void>;
  hangUp(): Promise<void>;
  media(): Promise<{ connectionState: string; audioBytesReceived: number } | undefined>;
}
/** The page's global scope: page.evaluate sends a function's text, so each names it there itself. */
type PageGlobal = { phone?: PagePhone };

/**
 * Headless Chromium (Debian's, driven by playwright-core) with phone pages
 * served over HTTPS from `pageAddress` (a 127.0.0.N of the test's own, its
 * certificate from the test CA), trusting the test CA through its NSS
 * database. WebRTC's media prompt is answered yes and the microphone is
 * Chromium's fake device.
 */
export class BrowserPhones {
  private constructor(
    private readonly browser: Browser,
    private readonly pages: Server,
    /** The pages' origin, `https://address:port`: what the proxy's sip.websocket.allowedOrigins must name. */
    readonly origin: string,
  ) {}

  static async start(pageAddress: string, certificates: TestCertificates): Promise<BrowserPhones> {
    const issued = certificates.authority.server([pageAddress]);
    const pages = createServer({ cert: issued.certificate, key: issued.key }, (request, response) => {
      const file = fileOf(new URL(request.url ?? '/', 'https://page').pathname);
      if (!file) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'text/plain' }).end(readFileSync(file));
    });
    pages.listen(0, pageAddress);
    await once(pages, 'listening');
    try {
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        env: { ...process.env, HOME: homeTrusting(certificates) },
        args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
        timeout: 15_000,
      });
      return new BrowserPhones(browser, pages, `https://${pageAddress}:${(pages.address() as AddressInfo).port}`);
    } catch (error) {
      pages.close();
      throw error;
    }
  }

  /** A new tab on the phone page, its modules loaded. */
  async open(): Promise<BrowserPhone> {
    const page = await this.browser.newPage();
    const phone = new BrowserPhone(page);
    await page.goto(`${this.origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobal).phone !== undefined, undefined, {
      timeout: 5000,
    });
    return phone;
  }

  async close(): Promise<void> {
    await this.browser.close();
    this.pages.close();
  }
}

/** One tab's phone: SIP.js's UserAgent, its Registerer and its one session, as phone.js runs them. */
export class BrowserPhone {
  /** The page's console errors and uncaught exceptions, for a failing test's message. */
  private readonly printed: string[] = [];

  constructor(private readonly page: Page) {
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') this.printed.push(message.text());
    });
    page.on('pageerror', (error) => this.printed.push(error.message));
  }

  register(account: { server: string; user: string; password: string; domain: string }): Promise<void> {
    return this.page.evaluate(
      (given) => (globalThis as unknown as Required<PageGlobal>).phone.register(given),
      account,
    );
  }

  call(target: string): Promise<void> {
    return this.page.evaluate((given) => (globalThis as unknown as Required<PageGlobal>).phone.call(given), target);
  }

  answer(): Promise<void> {
    return this.page.evaluate(() => (globalThis as unknown as Required<PageGlobal>).phone.answer());
  }

  hangUp(): Promise<void> {
    return this.page.evaluate(() => (globalThis as unknown as Required<PageGlobal>).phone.hangUp());
  }

  media(): Promise<{ connectionState: string; audioBytesReceived: number } | undefined> {
    return this.page.evaluate(() => (globalThis as unknown as Required<PageGlobal>).phone.media());
  }

  /** What the phone saw so far, in order: `REGISTER 200`, `registration Registered`, `INVITE 180`, `invited by 1001`, `session Established`… */
  events(): Promise<string[]> {
    return this.page.evaluate(() => [...(globalThis as unknown as Required<PageGlobal>).phone.events]);
  }

  /** The events once one of them is `event`, within `timeoutMs`; the failure names the events and what the page printed. */
  async event(event: string, timeoutMs: number): Promise<string[]> {
    let seen: string[] = [];
    return waitFor(
      `"${event}" in the browser phone's events`,
      timeoutMs,
      async () => {
        seen = await this.events();
        return seen.includes(event) ? seen : undefined;
      },
      { detail: () => `events: ${JSON.stringify(seen)}; page printed: ${JSON.stringify(this.printed.slice(-5))}` },
    );
  }

  /** The tab closed, as a user closes it: its WebSocket goes with it. */
  close(): Promise<void> {
    return this.page.close();
  }
}
