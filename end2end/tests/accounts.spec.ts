import { test, expect } from '@playwright/test';
import { allMails, browserState, linkIn, OTHER_STRONG_PASSWORD, registerAndVerify, signIn, STRONG_PASSWORD, uniqueEmail, waitForMail } from './support';

test('a weak password is refused with feedback shown inline', async ({ page }) => {
  await page.goto('/register');
  await expect(page.getByText('Why we ask: to sign you in')).toBeVisible();
  // The versions the consent will name are the ones shown here.
  await expect(page.getByTestId('policy-shown')).toHaveCount(2);
  await expect(page.getByTestId('policy-shown').first()).toContainText('(version ');
  await page.getByLabel('Email').fill(uniqueEmail('weak'));
  await page.getByLabel('Password').fill('password1');
  await page.getByLabel('I accept the terms of use and the privacy policy.').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('form-error')).toContainText('too easy to guess');
  await expect(page.getByTestId('password-feedback').locator('li').first()).toBeVisible();
  await expect(page.getByTestId('register-done')).toHaveCount(0);
});

test('register, verify by mail, sign in without keep-me-signed-in, sign out leaves nothing', async ({ page, context, baseURL }) => {
  const email = uniqueEmail('plain');
  await registerAndVerify(page, email);
  await signIn(page, email);

  const cookies = await context.cookies();
  expect(cookies).toHaveLength(1);
  const session = cookies[0];
  expect(session.name).toBe('__Host-chatfbtop_session');
  expect(session.httpOnly).toBe(true);
  expect(session.secure).toBe(true);
  expect(session.sameSite).toBe('Strict');
  expect(session.expires).toBe(-1); // a browser-session cookie
  expect(await browserState(page)).toEqual({ local: [], session: [], cookie: '' }); // remember-me is off

  await page.getByRole('link', { name: 'Security' }).click();
  // The verification link signed in, then this sign-in: two entries.
  await expect(page.getByTestId('signin-history').locator('tbody tr')).toHaveCount(2);
  await expect(page.getByTestId('retention')).toContainText('30 days');

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await context.cookies()).toEqual([]);
  expect(await browserState(page)).toEqual({ local: [], session: [], cookie: '' });

  // The old cookie, replayed, is refused.
  await context.addCookies([session]);
  const me = await page.request.get(`${baseURL}/api/auth/me`, { headers: { cookie: `${session.name}=${session.value}` } });
  expect(await me.json()).toBeNull();
  await page.goto('/account/security');
  await expect(page).toHaveURL(/\/login$/);
});

test('keep me signed in and remember settings: persistent cookie and app storage, both wiped at sign-out', async ({ page, context }) => {
  const email = uniqueEmail('kept');
  await registerAndVerify(page, email);
  await signIn(page, email, { keep: true, remember: true });

  const [session] = await context.cookies();
  const days = (session.expires * 1000 - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(29.9);
  expect(days).toBeLessThan(30.1);

  await page.getByRole('link', { name: 'Security' }).click();
  await page.getByLabel('Show times in UTC').check();
  const stored = await browserState(page);
  expect(stored.local.sort()).toEqual(['chatfbtop:remember', 'chatfbtop:time_zone']);

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await context.cookies()).toEqual([]);
  expect(await browserState(page)).toEqual({ local: [], session: [], cookie: '' });
});

test('a password change sends its notice', async ({ page }) => {
  const email = uniqueEmail('changer');
  await registerAndVerify(page, email);
  await signIn(page, email);
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByLabel('Current password').fill(STRONG_PASSWORD);
  await page.getByLabel('New password').fill(OTHER_STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('password-changed')).toBeVisible();
  const notice = await waitForMail(email, 'Your password was changed');
  expect(notice).toContain('every other session was signed out');
  // Still signed in on this device, with the new password working.
  await expect(page.getByTestId('signed-in-as')).toBeVisible();
});

test('a forgotten password is reset through the mailed link', async ({ page }) => {
  const email = uniqueEmail('forgot');
  await registerAndVerify(page, email);
  await page.goto('/forgot-password');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByText('If an account uses this address')).toBeVisible();
  await page.goto(linkIn(await waitForMail(email, 'Reset your')));
  await page.getByLabel('New password').fill(OTHER_STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Set the password' }).click();
  await expect(page.getByText('Your password was changed.')).toBeVisible();
  await signIn(page, email, { password: OTHER_STRONG_PASSWORD });
});

test('names with HTML or script are shown as text, never run', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const email = uniqueEmail('xss');
  const name = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  await page.goto('/register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByLabel('Display name (optional)').fill(name);
  await page.getByLabel('I accept the terms of use and the privacy policy.').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('register-done')).toBeVisible();
  await page.goto(linkIn(await waitForMail(email, 'verify your email')));
  await expect(page.getByTestId('verified')).toContainText('you are signed in');
  // The link signed the browser that registered in.
  await expect(page.getByTestId('signed-in-as')).toHaveText(name);
  await signIn(page, email);
  await expect(page.getByTestId('signed-in-as')).toHaveText(name);
  await expect(page.getByTestId('welcome')).toContainText(name);
  expect(await page.locator('header img, main img').count()).toBe(0);
  expect(dialogs).toEqual([]);
});

test('an unverified address can ask for its link again from the sign-in page, and only the new link works', async ({ page }) => {
  const email = uniqueEmail('resend');
  await page.goto('/register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByLabel('I accept the terms of use and the privacy policy.').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('register-done')).toContainText('deleted');
  const first = linkIn(await waitForMail(email, 'verify your email'));

  // Signing in before verifying offers to send the link again.
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('form-error')).toContainText('verify your email address first');
  await page.getByTestId('resend-verification').click();
  await expect(page.getByTestId('verification-resent')).toBeVisible();
  const second = await waitForMailOtherThan(email, 'verify your email', first);

  await page.goto(first);
  await expect(page.getByTestId('form-error')).toBeVisible();
  await expect(page.getByTestId('verified')).toHaveCount(0);
  await page.goto(second);
  await expect(page.getByTestId('verified')).toBeVisible();
  await signIn(page, email);
});

/** The link of a mail to `to` about `subject` whose link is not `seen`. */
async function waitForMailOtherThan(to: string, subject: string, seen: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const mail of allMails(to, subject)) {
      const link = linkIn(mail);
      if (link !== seen) return link;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no second mail to ${to} about ${subject}`);
}
