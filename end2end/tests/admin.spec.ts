import { test, expect } from '@playwright/test';
import { OTHER_STRONG_PASSWORD, registerAndVerify, signIn, STRONG_PASSWORD, uniqueEmail } from './support';

// The admin set up its password in policy-update.spec.ts, so this file runs after it.
test('admin: find a user, open their data for a reason (they see it), disable them (their session ends)', async ({ browser }) => {
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  const email = uniqueEmail('managed');
  await registerAndVerify(user, email, STRONG_PASSWORD);
  await signIn(user, email);

  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, 'admin@e2e.test', { password: OTHER_STRONG_PASSWORD });
  // The admin published version 2 in the previous test and has not accepted it yet.
  await admin.getByTestId('policy-gate').getByRole('button', { name: 'Accept' }).click();
  await admin.getByRole('link', { name: 'Admin' }).click();
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

  await admin.getByRole('button', { name: 'Disable' }).click();
  await expect(admin.getByTestId('user-status')).toHaveText('disabled');
  const me = await user.request.get('/api/auth/me');
  expect(await me.json()).toBeNull();
  await admin.getByRole('button', { name: 'Enable' }).click();
  await expect(admin.getByTestId('user-status')).toHaveText('active');
  await expect(admin.getByTestId('admin-actions')).toHaveCount(1);
});
