import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { browserState, registerAndVerify, signIn, STRONG_PASSWORD, uniqueEmail, waitForMail } from './support';

test('before sign-in the app sets no cookie and stores nothing, and asks no one else', async ({ page, context, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const foreign: string[] = [];
  page.on('request', (r) => { if (new URL(r.url()).origin !== origin) foreign.push(r.url()); });
  for (const path of ['/', '/privacy', '/register', '/login']) {
    await page.goto(path);
    await expect(page.locator('main')).not.toBeEmpty();
  }
  expect(await context.cookies()).toEqual([]);
  expect(await browserState(page)).toEqual({ local: [], session: [], cookie: '' });
  expect(foreign).toEqual([]);
});

test('the public privacy page lists every category with purpose, basis and retention', async ({ page }) => {
  await page.goto('/privacy');
  const rows = page.getByTestId('inventory').locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThanOrEqual(5);
  await expect(page.getByTestId('inventory')).toContainText('Sign-in history');
  await expect(page.getByTestId('inventory')).toContainText('Legitimate interest');
});

test('deleting the account: a typed confirmation, then sign-in fails and the last mail arrives', async ({ page, context }) => {
  const email = uniqueEmail('adios');
  await registerAndVerify(page, email);
  await signIn(page, email, { remember: true });
  await page.getByRole('link', { name: 'Your data' }).click();
  await expect(page.locator('[data-category="profile"] .count')).toHaveText('1');
  await expect(page.getByTestId('consents').locator('li')).toHaveCount(2);
  await expect(page.getByText('This cannot be undone.')).toBeVisible();

  await page.locator('#delete_password').fill(STRONG_PASSWORD);
  await page.getByLabel('Type DELETE to confirm').fill('delete');
  await page.getByRole('button', { name: 'Delete my account for good' }).click();
  await expect(page.getByTestId('form-error')).toContainText('Type DELETE');

  await page.getByLabel('Type DELETE to confirm').fill('DELETE');
  await page.getByRole('button', { name: 'Delete my account for good' }).click();
  await expect(page.getByTestId('goodbye')).toBeVisible();
  expect(await context.cookies()).toEqual([]);
  expect(await browserState(page)).toEqual({ local: [], session: [], cookie: '' });
  await waitForMail(email, 'account was deleted');

  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('form-error')).toContainText('email or password is incorrect');
});

test('export: prepare, download the ZIP, and find the user in data.json', async ({ page }) => {
  const email = uniqueEmail('exporter');
  await registerAndVerify(page, email);
  await signIn(page, email);
  await page.getByRole('link', { name: 'Your data' }).click();
  await page.locator('#export_password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Prepare my data' }).click();
  const link = page.getByTestId('export-download');
  await expect(link).toBeVisible({ timeout: 30_000 });
  await waitForMail(email, 'export is ready');

  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const zipPath = path.join(os.tmpdir(), `export-${Date.now()}.zip`);
  await download.saveAs(zipPath);
  const script = 'import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); print(json.dumps(json.loads(z.read("data.json"))))';
  const data = JSON.parse(execFileSync('python3', ['-c', script, zipPath]).toString());
  fs.rmSync(zipPath);
  expect(data.format_version).toBe(1);
  expect(data.categories.profile[0].email).toBe(email);
  expect(data.categories.consents).toHaveLength(2);
});

test('browser storage is offered with two equal choices, and No thanks stores nothing', async ({ page }) => {
  const email = uniqueEmail('decliner');
  await registerAndVerify(page, email);
  await signIn(page, email);
  const offer = page.getByTestId('storage-offer');
  const allow = offer.getByRole('button', { name: 'Allow' });
  const decline = offer.getByRole('button', { name: 'No thanks' });
  await expect(allow).toBeVisible();
  await expect(decline).toBeVisible();
  expect(await allow.getAttribute('class')).toBe(await decline.getAttribute('class'));
  const [a, d] = [await allow.boundingBox(), await decline.boundingBox()];
  expect(Math.abs(a!.height - d!.height)).toBeLessThan(1);
  const declined = page.waitForResponse((r) => r.url().endsWith('/api/auth/decline-storage-offer'));
  await decline.click();
  await expect(offer).toHaveCount(0);
  expect((await declined).status()).toBe(200);
  // Remembered for the session, by the server: a reload does not ask again.
  await page.reload();
  await expect(page.getByTestId('signed-in-as')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Security' })).toBeVisible();
  await expect(offer).toHaveCount(0);
  await page.getByRole('link', { name: 'Security' }).click();
  await page.getByLabel('Show times in UTC').check();
  expect(await browserState(page)).toEqual({ local: [], session: [], cookie: '' });

  // Withdrawing after allowing takes one toggle, and wipes at once.
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByLabel('Remember my settings on this device').check();
  await page.getByRole('link', { name: 'Security' }).click();
  await page.getByLabel('Show times in UTC').check();
  expect((await browserState(page)).local.length).toBeGreaterThan(0);
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByLabel('Remember my settings on this device').uncheck();
  expect(await browserState(page)).toEqual({ local: [], session: [], cookie: '' });

  // A new sign-in is a new session: the offer comes back.
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, email);
  await expect(offer).toBeVisible();
});
