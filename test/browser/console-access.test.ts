// Who may do what in the console, in Chromium against the real local gateway: each role signs
// in and is offered only what it may do, the password is kept nowhere in the page, a write from
// another origin is refused, admin users and the audit log are managed from the page, and a
// provider whose upstream fails turns red on the overview.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  adminApi,
  ADMIN,
  buttonTexts,
  clickButton,
  type ConsoleStack,
  EDITOR,
  newPage,
  screenshot,
  signIn,
  startConsoleStack,
  textOf,
  VIEWER,
} from './console-stack';
import { DEFAULT_KEY, startGateway } from '../helpers/gateway';

let stack: ConsoleStack;

beforeAll(async () => {
  // Two failures open a breaker, and it stays open for the rest of the file; no fallback, so
  // only the failing provider is called.
  stack = await startConsoleStack({
    routing: { fallback_providers: [], circuit_breaker: { failure_threshold: 2, success_threshold: 1, open_seconds: 3600 } },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const navTexts = (page: import('puppeteer-core').Page) => page.$$eval('nav a', (links) => links.map((a) => (a.textContent ?? '').trim()));

test.each([
  {
    user: ADMIN,
    role: 'admin',
    nav: ['Overview', 'Tenants', 'Admin users', 'Audit log'],
    offered: ['Create tenant', 'Edit Tenant shown-to-all', 'Delete Tenant shown-to-all'],
  },
  { user: EDITOR, role: 'editor', nav: ['Overview', 'Tenants'], offered: ['Create tenant', 'Edit Tenant shown-to-all', 'Rotate key of Tenant shown-to-all'] },
  { user: VIEWER, role: 'viewer', nav: ['Overview', 'Tenants'], offered: [] },
])('$user.username signs in as $role and is offered what the role may do', async ({ user, role, nav, offered }) => {
  await adminApi(stack.gw, 'PUT', '/admin/tenants/shown-to-all', { name: 'Tenant shown-to-all' }).catch(() =>
    adminApi(stack.gw, 'POST', '/admin/tenants', { id: 'shown-to-all', name: 'Tenant shown-to-all' }),
  );
  const { context, page } = await newPage(stack, 390);
  try {
    await page.goto(stack.consoleUrl);
    await page.waitForSelector('#username');
    if (role === 'admin') await screenshot(page, 'sign-in');
    await signIn(page, stack, user, '#/tenants');
    expect(await textOf(page, '[data-testid="who"]')).toBe(`${user.username} · ${role}`);
    expect(await navTexts(page)).toEqual(nav);
    await page.waitForSelector('tr[data-tenant="shown-to-all"]');
    const buttons = await buttonTexts(page);
    for (const label of offered) expect(buttons).toContain(label);
    if (role === 'editor') expect(buttons).not.toContain('Delete Tenant shown-to-all');
    // Readable on a phone: the page never scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, `tenants-${role}-phone`);
  } finally {
    await context.close();
  }
});

test('a viewer finds no write action on any page', async () => {
  const tenant = await adminApi<{ id: string }>(stack.gw, 'POST', '/admin/tenants', { name: 'Viewer target' });
  const { context, page } = await newPage(stack);
  const readOnly = ['Skip to content', 'Sign out', 'Refresh', 'Refresh providers'];
  try {
    await signIn(page, stack, VIEWER, '#/overview');
    await page.waitForSelector('[data-testid="stat-spend"]');
    expect((await buttonTexts(page)).filter((b) => !readOnly.includes(b))).toEqual([]);
    await page.goto(`${stack.consoleUrl}#/tenants`);
    await page.waitForSelector(`tr[data-tenant="${tenant.id}"]`);
    expect((await buttonTexts(page)).filter((b) => !readOnly.includes(b))).toEqual([]);
    await page.goto(`${stack.consoleUrl}#/tenants/${tenant.id}`);
    await page.waitForSelector('[data-testid="tenant-spend"]');
    expect((await buttonTexts(page)).filter((b) => !readOnly.includes(b))).toEqual([]);
    await screenshot(page, 'tenant-detail-viewer');
    await page.goto(`${stack.consoleUrl}#/users`);
    expect(await textOf(page, 'main h1')).toBe('Not available');
  } finally {
    await context.close();
  }
});

test('a wrong password is refused, and the right one is kept nowhere the page can read', async () => {
  const { context, page } = await newPage(stack);
  try {
    await page.goto(stack.consoleUrl);
    await page.waitForSelector('#username');
    await page.type('#username', ADMIN.username);
    await page.type('#password', 'not-the-password');
    await page.click('button[type="submit"]');
    expect(await textOf(page, '[role="alert"]')).toBe('Wrong username or password.');
    expect(await page.$eval('#password', (el) => (el as HTMLInputElement).value)).toBe('');

    await signIn(page, stack, ADMIN);
    const kept = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookies: document.cookie }));
    expect(kept).not.toContain(ADMIN.password);
    expect(kept).not.toContain('gw_admin_session'); // HttpOnly: the page cannot read its session
    expect(await page.content()).not.toContain(ADMIN.password);
    const cookie = (await context.cookies()).find((c) => c.name === 'gw_admin_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });

    // Signing out ends the session: a reload shows the sign-in form again.
    await clickButton(page, 'Sign out');
    await page.waitForSelector('#username');
    await page.reload();
    await page.waitForSelector('#username');
  } finally {
    await context.close();
  }
});

test('the keyboard alone signs in, opens a dialog and closes it with Escape, focus going back', async () => {
  const { context, page } = await newPage(stack);
  try {
    await page.goto(`${stack.consoleUrl}#/tenants`);
    await page.waitForSelector('#username:focus');
    await page.keyboard.type(EDITOR.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(EDITOR.password);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="who"]');
    await page.waitForSelector('tr[data-tenant]');
    const createButton = await page.waitForSelector('xpath///button[normalize-space()="Create tenant"]');
    await createButton!.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog[open] #tenant-name:focus');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.querySelector('dialog[open]') === null);
    // Focus goes back once the console has closed its dialog, which may follow the browser's own close.
    await page.waitForFunction(() => document.activeElement?.textContent === 'Create tenant');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Create tenant');
  } finally {
    await context.close();
  }
});

test('a dialog the browser closes without a cancel event is closed in the console too: focus goes back and it opens again', async () => {
  // Chromium skips the cancel event of an Escape that follows no user activation since the dialog
  // opened; the dialog then just closes, as close() does.
  const { context, page } = await newPage(stack);
  try {
    await signIn(page, stack, EDITOR, '#/tenants');
    await page.waitForSelector('tr[data-tenant]');
    const createButton = await page.waitForSelector('xpath///button[normalize-space()="Create tenant"]');
    await createButton!.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog[open] #tenant-name:focus');
    await page.evaluate(() => document.querySelector<HTMLDialogElement>('dialog[open]')?.close());
    // The browser gives focus back at once; the console closes its dialog on the close event that
    // follows, and only then does the button open a new one.
    await page.waitForFunction(() => document.querySelectorAll('dialog').length === 0);
    await page.waitForFunction(() => document.activeElement?.textContent === 'Create tenant');
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog[open] #tenant-name:focus');
    expect(await page.evaluate(() => document.querySelectorAll('dialog').length)).toBe(1);
  } finally {
    await context.close();
  }
});

test('a write from another origin carrying the session cookie is refused', async () => {
  const attacker = await startAttackerPage(stack.gw.url);
  const { context, page } = await newPage(stack);
  try {
    await signIn(page, stack, ADMIN);
    const statuses: number[] = [];
    page.on('response', (res) => {
      if (res.url() === `${stack.gw.url}/admin/tenants` && res.request().method() === 'POST') statuses.push(res.status());
    });
    // Same site (127.0.0.1), other port: the SameSite=Strict cookie goes along; the Origin check must stop it.
    await page.goto(attacker.url);
    await page.waitForFunction(() => document.title === 'sent');
    await page.waitForFunction(() => true);
    expect(statuses).toEqual([403]);
    await expect(adminApi(stack.gw, 'GET', '/admin/tenants/forged')).rejects.toThrow(/404/);
  } finally {
    await context.close();
    await new Promise((r) => attacker.server.close(r));
  }
});

test('an admin creates an admin user, changes its role and deletes it; the audit log filters it', async () => {
  const { context, page } = await newPage(stack);
  try {
    await signIn(page, stack, ADMIN, '#/users');
    await page.waitForSelector('tr[data-user="admin"]');
    await clickButton(page, 'Create admin user');
    await page.waitForSelector('dialog[open] #user-name');
    await page.type('#user-name', 'olivia');
    await page.type('#user-password', 'olivia-password-1');
    await page.select('#user-role', 'editor');
    await clickButton(page, 'Create user', 'dialog[open]');
    await page.waitForSelector('tr[data-user="olivia"]');
    expect(await textOf(page, 'tr[data-user="olivia"]')).toContain('editor');

    await clickButton(page, 'Change role of olivia');
    await page.waitForSelector('dialog[open] #edit-role');
    await page.select('#edit-role', 'viewer');
    await clickButton(page, 'Save role', 'dialog[open]');
    await page.waitForFunction(() => document.querySelector('tr[data-user="olivia"]')?.textContent?.includes('viewer'));
    await screenshot(page, 'admin-users');

    await clickButton(page, 'Delete olivia');
    await page.waitForSelector('dialog[open]');
    expect(await textOf(page, 'dialog[open] h2')).toBe('Delete olivia?');
    await clickButton(page, 'Delete user', 'dialog[open]');
    await page.waitForFunction(() => document.querySelector('tr[data-user="olivia"]') === null);

    await page.goto(`${stack.consoleUrl}#/audit`);
    await page.waitForSelector('tr[data-action]');
    await page.select('#audit-action', 'user.update');
    await clickButton(page, 'Filter');
    await page.waitForFunction(() => [...document.querySelectorAll('tr[data-action]')].every((r) => r.getAttribute('data-action') === 'user.update'));
    const row = await textOf(page, 'tr[data-action="user.update"]');
    expect(row).toContain('admin');
    expect(row).toContain('olivia');
    await screenshot(page, 'audit-log');
  } finally {
    await context.close();
  }
});

test('a provider turns red on the overview once its upstream fails', async () => {
  const { context, page } = await newPage(stack);
  try {
    await signIn(page, stack, VIEWER, '#/overview');
    await page.waitForSelector('tr[data-provider="openai"] .badge');
    expect(await page.$eval('tr[data-provider="openai"] .badge', (el) => el.getAttribute('data-state'))).toBe('closed');

    stack.upstream.setBehaviour({ status: 503 });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${stack.gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBeGreaterThanOrEqual(500);
    }
    await clickButton(page, 'Refresh providers');
    await page.waitForFunction(() => document.querySelector('tr[data-provider="openai"] .badge')?.getAttribute('data-state') === 'open');
    expect(await textOf(page, 'tr[data-provider="openai"] .badge')).toBe('failing (open)');
    expect(await page.$eval('tr[data-provider="ollama"] .badge', (el) => el.getAttribute('data-state'))).toBe('closed');
    await screenshot(page, 'overview-provider-red');
  } finally {
    stack.upstream.setBehaviour(null);
    await context.close();
  }
});

/** A page on another origin whose script posts to the admin API with the browser's cookies. */
async function startAttackerPage(gatewayUrl: string): Promise<{ server: Server; url: string }> {
  const html = `<!doctype html><title>waiting</title><script>
fetch(${JSON.stringify(`${gatewayUrl}/admin/tenants`)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
  headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ id: 'forged', name: 'forged' }) })
  .finally(() => { document.title = 'sent'; });
</script>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

test('with the local defaults (admin auth off), admin / admin signs in and manages tenants', async () => {
  const gw = await startGateway({ CONSOLE_DIR: stack.consoleDir });
  const { context, page } = await newPage(stack);
  try {
    await signIn(page, { consoleUrl: `${gw.url}/console/` }, { username: 'admin', password: 'admin' }, '#/tenants');
    expect(await textOf(page, '[data-testid="who"]')).toBe('admin · admin');
    await page.waitForSelector('tr[data-tenant="default"]');
    expect(await buttonTexts(page)).toEqual(expect.arrayContaining(['Create tenant', 'Rotate key of default', 'Delete default']));
  } finally {
    await context.close();
    await gw.close();
  }
});
