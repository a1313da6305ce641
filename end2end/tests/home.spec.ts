import { test, expect, type Page } from '@playwright/test';

/** Records console errors and every request that leaves the app's origin. */
function watch(page: Page, origin: string) {
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.origin !== origin && url.protocol !== 'data:') foreignRequests.push(req.url());
  });
  return { consoleErrors, foreignRequests };
}

test('the app is sent precompressed and its loading shell goes once it runs', async ({ page }) => {
  const wasm = page.waitForResponse((r) => r.url().endsWith('.wasm'));
  await page.goto('/');
  expect((await (await wasm).allHeaders())['content-encoding']).toBe('br');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Chat FB Top');
  await expect(page.locator('#loading-shell')).toHaveCount(0);
});

test('the home page tells a visitor what the app is and how to start, asks for the server status once, and talks to no one else', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const seen = watch(page, origin);
  const statusCalls: string[] = [];
  page.on('request', (req) => { if (new URL(req.url()).pathname === '/api/status') statusCalls.push(req.url()); });

  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");

  await expect(page.getByRole('heading', { level: 1, name: 'Chat FB Top' })).toBeVisible();
  await expect(page.getByTestId('introduction')).toContainText('Send campaigns to your leads within Meta');
  await expect(page.getByTestId('how-to-start').locator('li')).toHaveCount(3);
  await expect(page.getByTestId('how-to-start').getByRole('link', { name: 'Create an account' })).toHaveAttribute('href', '/register');
  // The server's status is for its administrators, not for visitors.
  await expect(page.getByTestId('server-status')).toHaveCount(0);
  await page.waitForLoadState('networkidle');
  // The demo banner asks; nothing else on the page asks again.
  expect(statusCalls).toHaveLength(1);

  expect(seen.consoleErrors).toEqual([]);
  expect(seen.foreignRequests).toEqual([]);
});

test('unknown routes show the not-found page', async ({ page, baseURL }) => {
  const seen = watch(page, new URL(baseURL!).origin);
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(200); // the SPA shell; the router decides
  await expect(page.getByTestId('not-found')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the home page' }).click();
  await expect(page.getByTestId('introduction')).toBeVisible();
  expect(seen.consoleErrors).toEqual([]);
  expect(seen.foreignRequests).toEqual([]);
});
