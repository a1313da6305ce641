import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { composeCampaign, connectPage, OTHER_STRONG_PASSWORD, registerAndVerify, signIn, standin, uniqueEmail } from './support';

/** Every path any tab of the tour has shown. */
const visited = new Set<string>();

/**
 * Every request that leaves the app's origin, on every page the context opens, and every console error of this page.
 * `staleLinks`: the page is opened with stale tokens, so the server's refusal of them is expected.
 */
function watch(page: Page, origin: string, staleLinks = false) {
  const foreign: string[] = [];
  const errors: string[] = [];
  page.context().on('request', (req) => {
    const url = new URL(req.url());
    if (url.origin !== origin && url.protocol !== 'data:') foreign.push(req.url());
  });
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) visited.add(new URL(frame.url()).pathname); });
  const refusal = /^Failed to load resource: the server responded with a status of 4\d\d/;
  page.on('console', (msg) => { if (msg.type() === 'error' && !(staleLinks && refusal.test(msg.text()))) errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  return { foreign, errors };
}

/** The router's paths, read from its source, as patterns (`:lead` matches one segment). */
function routes(): RegExp[] {
  const source = readFileSync(join(__dirname, '../../app/src/pages/mod.rs'), 'utf8');
  const paths = [...source.matchAll(/path!\("([^"]+)"\)/g)].map((m) => m[1]);
  expect(paths.length).toBeGreaterThan(20);
  return paths.map((p) => new RegExp(`^${p.replace(/:[a-z_]+/g, '[^/]+')}$`));
}

/** Meta's signed_request for the data-deletion callback, signed with the e2e app secret. */
function signedRequest(userId: string): string {
  const payload = Buffer.from(JSON.stringify({ algorithm: 'HMAC-SHA256', issued_at: Math.floor(Date.now() / 1000), user_id: userId })).toString('base64url');
  const signature = createHmac('sha256', 'e2e-app-secret').update(payload).digest('base64url');
  return `${signature}.${payload}`;
}

test('a tour of every signed-in page and the admin panel makes no request to another origin', async ({ page, request, baseURL, browser }) => {
  const origin = new URL(baseURL!).origin;
  const seen = watch(page, origin);
  const email = uniqueEmail('tour');
  const n = Date.now() % 1_000_000_000;
  const pageId = `7${n}`;
  await standin(request, '/_standin/pages', { id: pageId, name: `Tour Shop ${n}`, token: `tok-tour-${n}` });
  await registerAndVerify(page, email);
  await signIn(page, email);
  // No Page yet: a campaign cannot be saved, and the page says why.
  await page.goto('/campaigns');
  await expect(page.getByTestId('no-active-page')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Next: audience' })).toBeDisabled();
  await connectPage(page, pageId, `tok-tour-${n}`);
  await standin(request, '/_standin/simulate', { page_id: pageId, psid: `tour-${n}`, first_name: 'Tess', last_name: 'Tourist', text: 'hello' });

  await page.goto('/leads');
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('leads')).toContainText('Tess Tourist', { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await page.getByRole('link', { name: 'Tess Tourist' }).click();
  await expect(page).toHaveURL(/\/inbox\/[0-9a-z]+$/);
  await expect(page.getByTestId('conversation').getByText('hello')).toBeVisible();

  // A campaign, sent, with its chart.
  await page.goto('/campaigns');
  await composeCampaign(page, { name: 'Tour news', text: 'Hi {{first_name}}, welcome to the tour!' });
  await expect(page.getByTestId('message-as-seen')).toContainText('Hi Tess, welcome to the tour!');
  await page.getByRole('button', { name: 'Send now…' }).click();
  await page.getByRole('button', { name: 'Yes, send to 1 lead' }).click();
  await expect(page.getByTestId('progress-text')).toContainText('100%', { timeout: 30_000 });
  await expect(page.getByTestId('chart')).toBeVisible();

  // Facebook Login's return address, as a visit with a stale state shows it.
  const callback = await page.context().newPage();
  const callbackSeen = watch(callback, origin, true);
  await callback.goto('/pages/facebook?code=stale&state=stale');
  await expect(callback.locator('main')).toBeVisible();
  await callback.waitForLoadState('networkidle');
  for (const path of ['/pages', '/account', '/account/security', '/account/privacy', '/privacy', '/campaigns']) {
    await page.goto(path);
    await expect(page.locator('main')).toBeVisible();
    await page.waitForLoadState('networkidle');
  }

  // The lead's own page, from the link in the campaign.
  const sent = await standin(request, '/_standin/sent');
  const toTess = sent.find((m: any) => m.psid === `tour-${n}`);
  const leadTab = await (await browser.newContext()).newPage();
  const leadSeen = watch(leadTab, origin);
  await leadTab.goto(new URL(toTess.text.split('Unsubscribe: ')[1]).pathname);
  await expect(leadTab.getByTestId('unsubscribe')).toBeVisible();
  await leadTab.waitForLoadState('networkidle');

  // The admin panel, in its own browser context.
  const admin = await (await browser.newContext()).newPage();
  const adminSeen = watch(admin, origin);
  await signIn(admin, 'admin@e2e.test', { password: OTHER_STRONG_PASSWORD });
  const gate = admin.getByTestId('policy-gate');
  if (await gate.isVisible()) {
    await gate.getByRole('button', { name: 'Accept' }).click();
    await expect(gate).toBeHidden();
  }
  await admin.goto('/admin');
  // The server's status lives here now, for the people who run it.
  await expect(admin.getByTestId('status-database')).toHaveText('ready');
  await expect(admin.getByTestId('status-schema')).toHaveText(/^[1-9]\d*$/);
  await expect(admin.getByTestId('status-version')).toHaveText(/^\d+\.\d+\.\d+/);
  await expect(admin.getByTestId('last-purge')).toBeVisible();
  // Every section has its own address.
  for (const path of ['/admin/users', '/admin/policies', '/admin/recipients', '/admin/breaches', '/admin/retention', '/admin/facebook-app', '/admin/log']) {
    await admin.goto(path);
    await expect(admin.locator('main h1')).toBeVisible();
    await admin.waitForLoadState('networkidle');
  }
  await admin.goto('/admin/users');
  await expect(admin.getByTestId('admin-user-row').first()).toBeVisible();
  await admin.goto('/admin/processing');
  await expect(admin.locator('main')).toContainText('Signed opt-in deliveries');
  await admin.waitForLoadState('networkidle');

  // Meta's data-deletion callback for the lead, then its public status page.
  const answer = await request.post(`${origin}/webhooks/meta/data-deletion`, { form: { signed_request: signedRequest(`asid-tour-${n}`) } });
  expect(answer.status()).toBe(200);
  const { url, confirmation_code } = await answer.json();
  expect(url).toContain(`/data-deletion?code=${confirmation_code}`);
  const visitor = await (await browser.newContext()).newPage();
  const visitorSeen = watch(visitor, origin);
  await visitor.goto(new URL(url).pathname + new URL(url).search);
  await expect(visitor.getByTestId('deletion-status')).toContainText(`Request ${confirmation_code} received`);
  await expect(visitor.getByTestId('deletion-status')).toContainText('Conversations erased: 1.');
  await visitor.goto('/data-deletion?code=unknown0000');
  await expect(visitor.getByText('No request with this confirmation code.')).toBeVisible();
  // The public pages, and the ones a mailed link opens, with stale tokens.
  const stranger = await (await browser.newContext()).newPage();
  const strangerSeen = watch(stranger, origin, true);
  // "I accept the terms" links to them, and who else receives data is derived
  // from the inventory on both pages that say it (never "No one").
  await stranger.goto('/register');
  await expect(stranger.getByRole('link', { name: 'terms of use' })).toHaveAttribute('href', '/terms#terms');
  await expect(stranger.getByRole('link', { name: 'privacy policy' })).toHaveAttribute('href', '/terms#privacy');
  for (const path of ['/register', '/privacy']) {
    await stranger.goto(path);
    await expect(stranger.getByTestId('built-in-recipients')).toContainText('Meta Platforms (Facebook)');
    await expect(stranger.getByTestId('built-in-recipients')).toContainText("mail server");
    await expect(stranger.getByTestId('recipients')).not.toContainText('No one');
  }
  await stranger.goto('/terms');
  await expect(stranger.locator('#terms')).toContainText('Terms of use (version');
  await expect(stranger.locator('#privacy')).toContainText('Privacy policy (version');
  for (const path of ['/', '/register', '/login', '/forgot-password', '/verify-email?token=stale', '/reset-password?token=stale',
    '/confirm-email?token=stale', '/goodbye', '/privacy', '/no-such-page']) {
    await stranger.goto(path);
    await expect(stranger.locator('main')).toBeVisible();
    await stranger.waitForLoadState('networkidle');
  }
  await page.goto('/leads');
  await expect(page.getByTestId('lead-row')).toHaveCount(0);

  for (const s of [seen, adminSeen, visitorSeen, leadSeen, callbackSeen, strangerSeen]) {
    expect(s.foreign).toEqual([]);
    expect(s.errors).toEqual([]);
  }
  const missed = routes().filter((route) => ![...visited].some((path) => route.test(path)));
  expect(missed.map(String), 'every route of the app is part of the tour').toEqual([]);
});
