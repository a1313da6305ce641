import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export const STRONG_PASSWORD = 'velvet tractor orbit 7 lagoon';
export const OTHER_STRONG_PASSWORD = 'copper whistle meadow 42 canyon';

/** A fresh address per test run, so tests never collide on one server. */
export function uniqueEmail(label: string): string {
  return `${label}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.org`;
}

const mailDir = () => path.join(process.env.E2E_DATA_DIR!, 'mail');

/** Waits for the .eml file the server's file transport wrote for `to`. */
export async function waitForMail(to: string, subject: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const [mail] = allMails(to, subject);
    if (mail) return mail;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} about "${subject}"`);
}

/** Every mail written so far to `to` whose subject contains `subject`. */
export function allMails(to: string, subject: string): string[] {
  if (!fs.existsSync(mailDir())) return [];
  return fs.readdirSync(mailDir())
    .map((file) => fs.readFileSync(path.join(mailDir(), file), 'utf8'))
    .filter((text) => {
      const lines = text.split(/\r?\n/);
      return lines.some((l) => l.startsWith('To:') && l.includes(to)) && lines.some((l) => l.startsWith('Subject:') && l.includes(subject));
    });
}

/** The path and query of the first app link in a mail. */
export function linkIn(mail: string): string {
  const match = mail.match(/https:\/\/[^\s/]+(\/[^\s]*token=[A-Za-z0-9_-]+)/);
  if (!match) throw new Error(`no link in mail:\n${mail}`);
  return match[1];
}

/** Registers through the UI and verifies through the mailed link. */
export async function registerAndVerify(page: Page, email: string, password = STRONG_PASSWORD) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('I accept the terms of use and the privacy policy.').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('register-done')).toBeVisible();
  const mail = await waitForMail(email, 'verify your email');
  await page.goto(linkIn(mail));
  await expect(page.getByTestId('verified')).toBeVisible();
}

/** Signs in; `remember` answers the browser-storage offer with Allow. */
export async function signIn(page: Page, email: string, opts: { keep?: boolean; remember?: boolean; password?: string } = {}) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(opts.password ?? STRONG_PASSWORD);
  if (opts.keep) await page.getByLabel('Keep me signed in for 30 days').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The page may already be signed in (a verification link signs in): wait
  // for this sign-in to land, which leaves the sign-in page.
  await expect(page).not.toHaveURL(/\/login$/);
  // Attached rather than visible: on a phone it sits in the folded menu.
  await expect(page.getByTestId('signed-in-as')).toBeAttached();
  if (opts.remember) await page.getByTestId('storage-offer').getByRole('button', { name: 'Allow' }).click();
}

/** The admin's one-time password, written by `server admin create` before the server started. */
export function adminOneTimePassword(): string {
  const text = fs.readFileSync(path.join(process.env.E2E_DATA_DIR!, 'admin.txt'), 'utf8').trim().split('\n');
  return text[text.length - 1].trim();
}

/** Every app key in both storages, plus document.cookie. */
export async function browserState(page: Page) {
  return page.evaluate(() => ({
    local: Object.keys(localStorage),
    session: Object.keys(sessionStorage),
    cookie: document.cookie,
  }));
}

/** Calls the Graph API stand-in's control endpoints (`/_standin/...`): GET without a body, POST with one. */
export async function standin(request: APIRequestContext, path: string, body?: unknown) {
  const base = process.env.E2E_STANDIN_URL!;
  const headers = { 'x-standin-token': process.env.E2E_STANDIN_TOKEN! };
  const response = body === undefined ? await request.get(`${base}${path}`, { headers }) : await request.post(`${base}${path}`, { data: body, headers });
  expect(response.ok(), `${path}: ${response.status()}`).toBeTruthy();
  return response.status() === 204 ? null : response.json();
}

/** Connects a stand-in Page by hand from the Pages screen. */
export async function connectPage(page: Page, pageId: string, token: string) {
  await page.goto('/pages');
  await page.getByLabel('Page id').fill(pageId);
  await page.getByLabel('Page access token').fill(token);
  await page.getByRole('button', { name: 'Check and connect' }).click();
  await expect(page.getByTestId('page-connected')).toBeVisible();
}

/** Serious and critical accessibility violations (axe-core) of the page as it is now, one line each. */
export async function accessibilityViolations(page: Page, what: string): Promise<string[]> {
  await page.waitForLoadState('networkidle');
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${what}: ${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Presses Tab until `target` has the focus: it is reachable by keyboard alone. */
export async function tabTo(page: Page, target: ReturnType<Page['locator']>, most = 60) {
  await expect(target).toBeVisible();
  for (let i = 0; i < most; i++) {
    await page.keyboard.press('Tab');
    // Resolved again each time: the element may have been re-rendered meanwhile.
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  throw new Error(`${target} was not reached within ${most} presses of Tab`);
}

/**
 * A new account, verified and signed in, with a new stand-in Page named `${shop} ${n}` connected.
 * `prefix` starts the Page id, so that each test's Pages differ.
 */
export async function accountWithPage(page: Page, request: APIRequestContext, label: string, shop: string, prefix: string) {
  const email = uniqueEmail(label);
  const n = Date.now() % 1_000_000_000;
  const pageId = `${prefix}${n}`;
  await standin(request, '/_standin/pages', { id: pageId, name: `${shop} ${n}`, token: `tok-${label}-${n}` });
  await registerAndVerify(page, email);
  await signIn(page, email);
  await connectPage(page, pageId, `tok-${label}-${n}`);
  return { email, n, pageId };
}

/** Reloads /leads until `count` leads are listed (webhooks arrive a moment after they are sent). */
export async function waitForLeads(page: Page, count: number) {
  await page.goto('/leads');
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('lead-row')).toHaveCount(count, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
}

/**
 * Walks the composer's three steps from the campaigns page: the message, the
 * audience (a label to include, a rate under Advanced), the review; then
 * saves the draft and lands on the campaign's page.
 */
export async function composeCampaign(page: Page, o: { name: string; text: string; include?: string; rate?: string; reachable?: number }) {
  await page.getByLabel('Name', { exact: true }).fill(o.name);
  await page.getByLabel('Message', { exact: true }).fill(o.text);
  await page.getByRole('button', { name: 'Next: audience' }).click();
  if (o.include) await page.getByLabel(`Include ${o.include}`).check();
  if (o.rate) {
    await page.getByText('Advanced', { exact: true }).click();
    await page.getByLabel('Messages per second').fill(o.rate);
  }
  await page.getByRole('button', { name: 'Next: review' }).click();
  if (o.reachable !== undefined) await expect(page.getByTestId('audience-count')).toContainText(`Reachable now: ${o.reachable}`);
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f]+$/);
}
