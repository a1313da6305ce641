import { test, expect, type Page } from '@playwright/test';
import { OTHER_STRONG_PASSWORD, registerAndVerify, signIn, STRONG_PASSWORD, uniqueEmail, waitForMail } from './support';

/** Opens one section of the admin panel from its own navigation; the current one is marked. */
async function section(admin: Page, name: string) {
  const link = admin.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name, exact: true });
  await link.click();
  await expect(link).toHaveAttribute('aria-current', 'page');
}

// The admin set up its password in policy-update.spec.ts, so this file runs after it.
test('admin: find a user, open their data for a reason (they see it), disable them (their session ends), notify a breach, declare a recipient', async ({ browser }) => {
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  const email = uniqueEmail('managed');
  await registerAndVerify(user, email, STRONG_PASSWORD);
  await signIn(user, email);

  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, 'admin@e2e.test', { password: OTHER_STRONG_PASSWORD });
  // The admin published version 2 in the previous test and has not accepted it yet.
  await admin.getByTestId('policy-gate').getByRole('button', { name: 'Accept' }).click();
  // Wait for the decision to land: a link clicked while the gate is still up can
  // leave the address bar behind the page shown (and the reload below goes there).
  await expect(admin.getByTestId('policy-gate')).toBeHidden();
  await admin.getByRole('link', { name: 'Admin' }).click();
  await expect(admin).toHaveURL(/\/admin$/);
  await section(admin, 'Users');
  await expect(admin).toHaveURL(/\/admin\/users$/);
  await expect(admin.getByTestId('admin-user-row').first()).toBeVisible();
  await expect(admin.getByTestId('admin-users')).not.toContainText(email); // no personal data in the list
  await admin.getByLabel('Find by exact email').fill(email.toUpperCase());
  await admin.getByRole('button', { name: 'Search' }).click();
  await expect(admin.getByTestId('admin-user-row')).toHaveCount(1);
  await expect(admin.getByTestId('user-status')).toHaveText('active');

  await admin.getByRole('button', { name: 'Open…' }).click();
  await admin.getByLabel("Reason for opening this person's data").fill('Support request #12');
  await admin.getByRole('button', { name: 'Show personal data' }).click();
  await expect(admin.getByTestId('personal-data')).toContainText(email);

  await user.getByRole('link', { name: 'Your data' }).click();
  await expect(user.getByTestId('admin-access')).toContainText('Support request #12');

  // A role change needs the admin's password.
  await admin.locator('#role_password').fill('not my password');
  await admin.getByRole('button', { name: 'Make admin' }).click();
  await expect(admin.getByTestId('user-detail').getByTestId('form-error')).toContainText('current password is incorrect');
  await admin.locator('#role_password').fill(OTHER_STRONG_PASSWORD);
  await admin.getByRole('button', { name: 'Make admin' }).click();
  await expect(admin.getByTestId('role-changed')).toBeVisible();
  await admin.getByRole('button', { name: 'Make user' }).click();
  await expect(admin.getByTestId('role-changed')).toBeVisible();

  // Disabling says what it does first; going back changes nothing.
  await admin.getByRole('button', { name: 'Disable…' }).click();
  await expect(admin.getByTestId('confirmation')).toContainText('pauses their campaigns');
  await admin.getByRole('button', { name: 'Go back' }).click();
  await expect(admin.getByTestId('user-status')).toHaveText('active');
  await admin.getByRole('button', { name: 'Disable…' }).click();
  await admin.getByRole('button', { name: 'Yes, disable this account' }).click();
  await expect(admin.getByTestId('user-status')).toHaveText('disabled');
  const me = await user.request.get('/api/auth/me');
  expect(await me.json()).toBeNull();
  await admin.getByRole('button', { name: 'Enable' }).click();
  await expect(admin.getByTestId('user-status')).toHaveText('active');
  await section(admin, 'Action log');
  await expect(admin.getByTestId('admin-actions')).toHaveCount(1);
  await expect(admin.getByTestId('admin-actions')).toContainText('disable_user');

  // Record a breach and notify everyone; the notices arrive.
  await section(admin, 'Breaches');
  await admin.getByLabel('Discovered (your local time)').fill('2026-11-28T09:15');
  await admin.getByLabel('What happened').fill('A laptop with an old export was stolen');
  await admin.locator('#breach_categories').fill('email addresses');
  await admin.getByLabel('People affected (approximately)').fill('2');
  await admin.getByRole('button', { name: 'Record the breach' }).click();
  await expect(admin.getByTestId('breach')).toHaveCount(1);
  await expect(admin.getByTestId('breach-deadline')).toHaveText(/^2026-12-01 09:15 UTC$/); // the browser runs in UTC here
  await admin.getByLabel('Your password (to notify)').fill(OTHER_STRONG_PASSWORD);
  await admin.getByRole('button', { name: 'Notify the people affected' }).click();
  await expect(admin.getByTestId('breach-notified')).toBeVisible();
  const notice = await waitForMail(email, 'security incident');
  expect(notice).toContain('A laptop with an old export was stolen');

  // Retention: the panel sets it, /privacy states it.
  await section(admin, 'Overview');
  await expect(admin.getByTestId('acceptance')).toContainText('privacy version 2');
  await section(admin, 'Retention');
  await admin.getByLabel('Sign-in history (days)').fill('14');
  await admin.locator('#retention_password').fill(OTHER_STRONG_PASSWORD);
  await admin.getByRole('button', { name: 'Save retention' }).click();
  await expect(admin.getByTestId('retention-saved')).toBeVisible();
  const reader = await (await browser.newContext()).newPage();
  await reader.goto('/privacy');
  await expect(reader.getByTestId('retention-periods')).toContainText('Sign-in history: 14 days');

  // The Facebook app: the callback URL to paste, and a secret never shown again.
  await section(admin, 'Facebook app');
  await expect(admin.getByTestId('callback-url')).toHaveText(/\/webhooks\/messenger$/);
  await admin.getByLabel('App ID').fill('4242');
  await admin.getByLabel('App Secret').fill('e2e-app-secret');
  await admin.getByLabel('Webhook verify token').fill('e2e-verify');
  await admin.getByLabel('Graph API base URL').fill(process.env.E2E_STANDIN_URL!);
  await admin.locator('#fb_password').fill(OTHER_STRONG_PASSWORD);
  await admin.getByRole('button', { name: 'Save the Facebook app' }).click();
  await expect(admin.getByTestId('fb-app-saved')).toBeVisible();
  const check = await admin.request.get('/webhooks/messenger?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=c1');
  expect(await check.text()).toBe('c1');
  await admin.reload();
  await expect(admin.getByLabel('App Secret')).toHaveValue('');
  expect(await admin.content()).not.toContain('e2e-app-secret');

  // Declare a recipient (last: it publishes a new privacy version); it shows on /privacy.
  await section(admin, 'Recipients');
  await admin.getByLabel('Recipient', { exact: true }).fill('Postmark <b>Inc</b>');
  await admin.getByLabel('Purpose').fill('Delivering account mail');
  await admin.locator('#recipient_categories').fill('email address');
  await admin.getByLabel('Country').fill('USA');
  await admin.getByLabel('Safeguards').fill('Standard contractual clauses');
  await admin.locator('#recipient_password').fill(OTHER_STRONG_PASSWORD);
  await admin.getByRole('button', { name: 'Declare' }).click();
  await expect(admin.getByTestId('recipient-saved')).toBeVisible();
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto('/privacy');
  await expect(visitor.getByTestId('recipients')).toContainText('Postmark <b>Inc</b>'); // shown as text, not markup
  await visitor.goto('/register');
  await expect(visitor.getByTestId('recipients')).toContainText('Standard contractual clauses');
  await waitForMail(email, 'We updated our Privacy policy');
});
