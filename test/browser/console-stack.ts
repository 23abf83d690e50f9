// What the console's browser tests share: the console built into a temp directory, the real
// local gateway serving it (CONSOLE_DIR) in front of a fake OpenAI upstream, Debian's Chromium
// driven by puppeteer-core, and a screenshot of each page kept as a test artifact.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { buildConsole } from '../../console/build';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startGateway, type StartOptions, type TestGateway } from '../helpers/gateway';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ADMIN = { username: 'admin', password: 'console-admin-pw' };
export const EDITOR = { username: 'erin', password: 'console-editor-pw' };
export const VIEWER = { username: 'victor', password: 'console-viewer-pw' };

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'console');

export interface ConsoleStack {
  gw: TestGateway;
  upstream: FakeUpstream;
  browser: Browser;
  /** `http://127.0.0.1:PORT/console/` */
  consoleUrl: string;
  /** The built console, for a second gateway to serve. */
  consoleDir: string;
  close(): Promise<void>;
}

/** Gateway with admin auth on, an editor and a viewer besides the first admin, and a browser. */
export async function startConsoleStack(opts: StartOptions = {}): Promise<ConsoleStack> {
  const consoleDir = mkdtempSync(join(tmpdir(), 'console-'));
  await buildConsole(consoleDir);
  const upstream = await startOpenAIUpstream();
  const gw = await startGateway(
    {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      DEFAULT_PROVIDER: 'openai',
      ADMIN_AUTH_ENABLED: 'true',
      ADMIN_PASSWORD: ADMIN.password,
      CONSOLE_DIR: consoleDir,
    },
    opts,
  );
  for (const [user, role] of [
    [EDITOR, 'editor'],
    [VIEWER, 'viewer'],
  ] as const) {
    await adminApi(gw, 'POST', '/admin/users', { username: user.username, password: user.password, role });
  }
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  return {
    gw,
    upstream,
    browser,
    consoleUrl: `${gw.url}/console/`,
    consoleDir,
    async close() {
      await browser.close();
      await gw.close();
      await upstream.close();
      rmSync(consoleDir, { recursive: true, force: true });
    },
  };
}

/** The admin API over HTTP Basic as the first admin (test setup and checks behind the browser's back). */
export async function adminApi<T = unknown>(gw: TestGateway, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** What the browser refused under the console's Content-Security-Policy (should stay empty). */
  cspViolations: string[];
}

/** A fresh browser profile (no cookies) with a phone or desktop viewport. */
export async function newPage(stack: ConsoleStack, width = 1280): Promise<ConsolePage> {
  const context = await stack.browser.createBrowserContext();
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) cspViolations.push(m.text());
  });
  await page.setViewport({ width, height: 900 });
  // A step that cannot happen fails in seconds, naming the step, well inside jest's own timeout.
  page.setDefaultTimeout(8000);
  return { context, page, cspViolations };
}

/** Signs in through the form and waits for the console's header to name the user. */
export async function signIn(page: Page, stack: Pick<ConsoleStack, 'consoleUrl'>, user: { username: string; password: string }, hash = ''): Promise<void> {
  await page.goto(`${stack.consoleUrl}${hash}`);
  await page.waitForSelector('#username');
  await page.type('#username', user.username);
  await page.type('#password', user.password);
  await Promise.all([page.waitForSelector('[data-testid="who"]'), page.click('button[type="submit"]')]);
}

/** Text of the first element matching `selector`, once it is there. */
export async function textOf(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(selector);
  return page.$eval(selector, (el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim());
}

/** Waits until the element's text equals `expected`. */
export async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  await page.waitForFunction(
    (sel, want) => document.querySelector(sel)?.textContent?.replace(/\s+/g, ' ').trim() === want,
    { timeout: 8000 },
    selector,
    expected,
  );
}

/** Clicks the button whose visible text is exactly `label` (within `scope`, default the page). */
export async function clickButton(page: Page, label: string, scope = 'body'): Promise<void> {
  const clicked = await page.evaluate(
    (sc, text) => {
      const buttons = [...document.querySelectorAll(`${sc} button`)] as HTMLButtonElement[];
      const button = buttons.find((b) => (b.textContent ?? '').replace(/\s+/g, ' ').trim() === text && b.offsetParent !== null);
      button?.click();
      return button !== undefined;
    },
    scope,
    label,
  );
  if (!clicked) throw new Error(`no visible button "${label}" in ${scope}`);
}

/** Visible button texts on the page (what a user can press). */
export function buttonTexts(page: Page): Promise<string[]> {
  return page.$$eval('button', (buttons) =>
    buttons.filter((b) => (b as HTMLElement).offsetParent !== null).map((b) => (b.textContent ?? '').replace(/\s+/g, ' ').trim()),
  );
}

/** The whole page, or only the viewport while a modal dialog is open (its backdrop covers the viewport). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const modal = (await page.$('dialog[open]')) !== null;
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) as `${string}.png`, fullPage: !modal });
}
