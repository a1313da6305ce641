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

test('home page renders, calls a server function, and talks to no one else', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const seen = watch(page, origin);

  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");

  await expect(page.getByRole('heading', { level: 1, name: 'Chat FB Top' })).toBeVisible();
  // The status card is filled from the `status` server function.
  await expect(page.getByTestId('status-database')).toHaveText('ready');
  await expect(page.getByTestId('status-schema')).toHaveText(/^[1-9]\d*$/);
  await expect(page.getByTestId('status-version')).toHaveText(/^\d+\.\d+\.\d+/);

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
  await expect(page.getByTestId('status-database')).toHaveText('ready');
  expect(seen.consoleErrors).toEqual([]);
  expect(seen.foreignRequests).toEqual([]);
});
