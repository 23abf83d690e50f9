// The console in Chromium against the real local gateway and a fake OpenAI upstream: a tenant is
// created and its key read once, its spend and chart move as completions arrive, its key is
// rotated with a grace period, and a budget alert shows once half the budget is spent.
import OpenAI from 'openai';
import { formatUsd } from '../../console/src/format';
import { adminApi, ADMIN, clickButton, type ConsoleStack, newPage, screenshot, signIn, startConsoleStack, textOf, waitForText } from './console-stack';

interface CreatedTenant {
  id: string;
  name: string;
  api_key: string;
}
interface UsageBody {
  totals: { cost_usd: number; request_count: number };
}

let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack();
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const client = (key: string) => new OpenAI({ apiKey: key, baseURL: stack.gw.baseURL, maxRetries: 0 });
const complete = (key: string, maxTokens?: number) =>
  client(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...(maxTokens ? { max_tokens: maxTokens } : {}) });
const createTenant = (id: string, extra: Record<string, unknown> = {}) =>
  adminApi<CreatedTenant>(stack.gw, 'POST', '/admin/tenants', { id, name: `Tenant ${id}`, ...extra });
const today = () => new Date().toISOString().slice(0, 10);

test('an admin creates a tenant in the form and reads its key exactly once', async () => {
  const { context, page } = await newPage(stack);
  try {
    await context.overridePermissions(new URL(stack.consoleUrl).origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    await signIn(page, stack, ADMIN, '#/tenants');
    await page.waitForSelector('tr[data-tenant="default"]');
    await clickButton(page, 'Create tenant');
    await page.waitForSelector('dialog[open] #tenant-name');
    await page.type('#tenant-name', 'Checkout service');
    await page.type('#tenant-id', 'checkout');
    await page.type('#tenant-budget', '25');
    await page.type('#tenant-rpm', '120');
    await screenshot(page, 'tenant-create-form');
    await clickButton(page, 'Create tenant', 'dialog[open]');

    await page.waitForSelector('dialog[open] #new-api-key');
    const dialogText = await textOf(page, 'dialog[open]');
    expect(dialogText).toContain('You will not see this key again.');
    const key = await page.$eval('#new-api-key', (el) => (el as HTMLInputElement).value);
    expect(key).toMatch(/^gw-[A-Za-z0-9_-]{43}$/);
    await clickButton(page, 'Copy key', 'dialog[open]');
    await waitForText(page, 'dialog[open] [role="status"]', 'Copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await screenshot(page, 'tenant-new-key');

    // The key works, and once the dialog is closed it is nowhere on the page, nor after a reload.
    expect((await complete(key)).choices[0]?.message.content).toBeTruthy();
    await stack.gw.gateway.flush();
    await clickButton(page, 'I have stored the key', 'dialog[open]');
    await page.waitForSelector('tr[data-tenant="checkout"]');
    expect(await page.content()).not.toContain(key);
    await page.reload();
    await page.waitForSelector('tr[data-tenant="checkout"]');
    expect(await page.content()).not.toContain(key);
    const row = await textOf(page, 'tr[data-tenant="checkout"]');
    expect(row).toContain('Checkout service');
    expect(row).toContain('120 req/min');
    const listed = await adminApi<{ data: Array<{ id: string; spend_usd_month: number }> }>(stack.gw, 'GET', '/admin/tenants?with=spend');
    const spend = listed.data.find((t) => t.id === 'checkout')?.spend_usd_month ?? -1;
    expect(spend).toBeGreaterThan(0);
    expect(row).toContain(`${formatUsd(spend)} of $25 (< 0.01 %)`);
    await screenshot(page, 'tenants');

    // The search narrows the list by name or id.
    await page.type('#tenant-search', 'CHECKOUT');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-tenant]').length === 1);
    expect(await page.$('tr[data-tenant="checkout"]')).not.toBeNull();
  } finally {
    await context.close();
  }
});

test('completions sent with a tenant key move its spend, its chart and the overview', async () => {
  const tenant = await createTenant('spend-moves');
  const { context, page, cspViolations } = await newPage(stack);
  try {
    await signIn(page, stack, ADMIN, `#/tenants/${tenant.id}`);
    await waitForText(page, '[data-testid="tenant-spend"]', '$0');
    const chartBefore = await page.$eval('figure.chart', (el) => el.getAttribute('aria-label'));
    expect(chartBefore).toContain(`latest ${today()} $0,`);

    await complete(tenant.api_key);
    await complete(tenant.api_key);
    await stack.gw.gateway.flush();

    // What the page shows is what the API says, digit for digit.
    const usage = await adminApi<UsageBody>(stack.gw, 'GET', `/admin/tenants/${tenant.id}/usage`);
    expect(usage.totals.request_count).toBe(2);
    expect(usage.totals.cost_usd).toBeGreaterThan(0);
    const spend = formatUsd(usage.totals.cost_usd);
    await clickButton(page, 'Refresh');
    await waitForText(page, '[data-testid="tenant-spend"]', spend);
    await waitForText(page, '[data-testid="tenant-requests"]', '2');
    const chartAfter = await page.$eval('figure.chart', (el) => el.getAttribute('aria-label'));
    expect(chartAfter).toContain(`latest ${today()} ${spend},`);
    expect(await textOf(page, `tr[data-day="${today()}"]`)).toContain(spend);
    expect(await textOf(page, 'tr[data-model]')).toContain(spend);
    await screenshot(page, 'tenant-detail');

    await page.goto(`${stack.consoleUrl}#/overview`);
    const overview = await adminApi<{ totals: { cost_usd: number } }>(stack.gw, 'GET', '/admin/overview');
    await waitForText(page, '[data-testid="stat-spend"]', formatUsd(overview.totals.cost_usd));
    expect(await textOf(page, 'figure.chart')).toBeDefined();
    await screenshot(page, 'overview');
    // The charts and the budget bars draw under the self-only policy.
    expect(cspViolations).toEqual([]);
  } finally {
    await context.close();
  }
});

test('rotating a key with a grace period shows the new key once and keeps the old one working', async () => {
  const tenant = await createTenant('rotate-me');
  const { context, page } = await newPage(stack);
  try {
    await signIn(page, stack, ADMIN, `#/tenants/${tenant.id}`);
    await page.waitForSelector(`tr[data-key-prefix="${tenant.api_key.slice(0, 10)}"]`);
    await clickButton(page, 'Rotate key of Tenant rotate-me');
    await page.waitForSelector('dialog[open] #rotate-grace');
    await page.select('#rotate-grace', '86400');
    await screenshot(page, 'tenant-rotate');
    await clickButton(page, 'Rotate key', 'dialog[open]');
    await page.waitForSelector('dialog[open] #new-api-key');
    const newKey = await page.$eval('#new-api-key', (el) => (el as HTMLInputElement).value);
    expect(newKey).not.toBe(tenant.api_key);
    expect(await textOf(page, 'dialog[open]')).toContain('You will not see this key again.');
    await clickButton(page, 'I have stored the key', 'dialog[open]');

    // Both keys work during the grace period; the page lists both prefixes, the old one expiring.
    await complete(tenant.api_key);
    await complete(newKey);
    const oldRow = `tr[data-key-prefix="${tenant.api_key.slice(0, 10)}"]`;
    await page.waitForSelector(`tr[data-key-prefix="${newKey.slice(0, 10)}"]`);
    expect(await textOf(page, oldRow)).toContain('(grace period)');
    expect(await textOf(page, `tr[data-key-prefix="${newKey.slice(0, 10)}"]`)).toContain('never (current key)');
    expect(await page.content()).not.toContain(newKey);
    const audit = await adminApi<{ data: Array<{ action: string; details?: { grace_seconds?: number } }> }>(
      stack.gw,
      'GET',
      `/admin/audit?tenant_id=${tenant.id}`,
    );
    expect(audit.data[0]).toMatchObject({ action: 'tenant.rotate_key', details: { grace_seconds: 86400 } });
  } finally {
    await context.close();
  }
});

test('crossing half of a small budget shows an alert and an amber budget bar', async () => {
  // One recorded completion costs about 0.000405 USD: 81 % of this budget.
  const tenant = await createTenant('small-budget', { budget_usd: 0.0005 });
  await complete(tenant.api_key, 37);
  await stack.gw.gateway.flush();
  const { context, page } = await newPage(stack);
  try {
    await signIn(page, stack, ADMIN, `#/tenants/${tenant.id}`);
    await page.waitForSelector('tr[data-alert="50"]');
    expect(await textOf(page, 'tr[data-alert="50"]')).toContain('50 % of the budget');
    await screenshot(page, 'tenant-alerts');

    await page.goto(`${stack.consoleUrl}#/tenants`);
    await page.waitForSelector('tr[data-tenant="small-budget"] .budget');
    expect(await page.$eval('tr[data-tenant="small-budget"] .budget', (el) => el.getAttribute('data-level'))).toBe('warn');
    expect(await textOf(page, 'tr[data-tenant="small-budget"] .budget')).toContain('nearly spent');
  } finally {
    await context.close();
  }
});

test('editing, disabling and deleting a tenant take effect on its key; the destructive ones ask first', async () => {
  const tenant = await createTenant('lifecycle');
  const row = 'tr[data-tenant="lifecycle"]';
  const { context, page } = await newPage(stack);
  try {
    await signIn(page, stack, ADMIN, '#/tenants');
    await page.waitForSelector(row);

    await clickButton(page, 'Edit Tenant lifecycle');
    await page.waitForSelector('dialog[open] #tenant-budget');
    await page.$eval('#tenant-budget', (el) => {
      (el as HTMLInputElement).value = '';
    });
    await page.type('#tenant-budget', '12.5');
    await clickButton(page, 'Save', 'dialog[open]');
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('$0 of $12.5 (0 %)'), {}, row);
    expect((await adminApi<{ budget_usd: number }>(stack.gw, 'GET', '/admin/tenants/lifecycle')).budget_usd).toBe(12.5);

    // Disabling asks first; the key then gets 403.
    await clickButton(page, 'Disable Tenant lifecycle');
    await page.waitForSelector('dialog[open]');
    expect(await textOf(page, 'dialog[open] h2')).toBe('Disable Tenant lifecycle?');
    await clickButton(page, 'Disable tenant', 'dialog[open]');
    await page.waitForFunction((sel) => document.querySelector(`${sel} .badge`)?.textContent === 'disabled', {}, row);
    await expect(complete(tenant.api_key)).rejects.toMatchObject({ status: 403 });

    // Deleting asks first: Cancel keeps the tenant, Delete removes it and its key gets 401.
    await clickButton(page, 'Delete Tenant lifecycle');
    await page.waitForSelector('dialog[open]');
    await screenshot(page, 'tenant-delete-confirm');
    await clickButton(page, 'Cancel', 'dialog[open]');
    await page.waitForFunction(() => document.querySelector('dialog[open]') === null);
    expect(await page.$(row)).not.toBeNull();
    await clickButton(page, 'Delete Tenant lifecycle');
    await page.waitForSelector('dialog[open]');
    await clickButton(page, 'Delete tenant', 'dialog[open]');
    await page.waitForFunction((sel) => document.querySelector(sel) === null, {}, row);
    await expect(complete(tenant.api_key)).rejects.toMatchObject({ status: 401 });
  } finally {
    await context.close();
  }
});
