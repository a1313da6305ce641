import { test, expect } from '@playwright/test';
import { adminOneTimePassword, OTHER_STRONG_PASSWORD, registerAndVerify, signIn, uniqueEmail, waitForMail } from './support';

test('a published policy is mailed, and the next sign-in requires a decision', async ({ browser, baseURL }) => {
  // A user who accepted version 1 at registration.
  const userPage = await (await browser.newContext()).newPage();
  const email = uniqueEmail('reader');
  await registerAndVerify(userPage, email);

  // The admin: one-time password, then their own, then the policies (never accepted yet).
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, 'admin@e2e.test', { password: adminOneTimePassword() });
  await expect(admin.getByText('This is a one-time password')).toBeVisible();
  await admin.getByLabel('Current password').fill(adminOneTimePassword());
  await admin.getByLabel('New password').fill(OTHER_STRONG_PASSWORD);
  await admin.getByRole('button', { name: 'Change password' }).click();
  await expect(admin.getByTestId('policy-gate')).toBeVisible();
  await admin.getByRole('button', { name: 'Accept' }).click();
  await expect(admin.getByTestId('policy-gate')).toHaveCount(0);

  // The record of processing activities renders from the same inventory as /privacy.
  await admin.getByRole('link', { name: 'Processing record' }).click();
  await expect(admin.getByTestId('processing-record')).toContainText('signin_event');
  await expect(admin.getByTestId('processing-record')).toContainText('Legitimate interest');

  // Publishing (the admin panel's screen comes with the admin issue; this is its server function).
  const published = await admin.request.post(`${baseURL}/api/admin/publish-policy`, {
    headers: { origin: new URL(baseURL!).origin },
    data: { password: OTHER_STRONG_PASSWORD, document: 'privacy', title: 'Privacy policy', body: 'The new full text.', summary: 'Sign-in history is now kept 14 days.' },
  });
  expect(published.status()).toBe(200);

  const mail = await waitForMail(email, 'We updated our Privacy policy');
  expect(mail).toContain('Sign-in history is now kept 14 days.');

  await userPage.goto('/admin/processing');
  await expect(userPage.getByTestId('processing-record')).toHaveCount(0);
  await signIn(userPage, email);
  await expect(userPage.getByTestId('policy-gate')).toBeVisible();
  await expect(userPage.getByTestId('policy-summary')).toContainText('14 days');
  // Nothing else is usable until a choice is made...
  await userPage.goto('/account/security');
  await expect(userPage.getByTestId('policy-gate')).toBeVisible();
  // ...except the data page, where export and deletion live.
  await userPage.getByRole('link', { name: 'Download my data or delete my account' }).click();
  await expect(userPage.getByRole('button', { name: 'Prepare my data' })).toBeVisible();
  await userPage.goto('/');
  await userPage.getByRole('button', { name: 'Accept' }).click();
  await expect(userPage.getByTestId('welcome')).toBeVisible();
  await userPage.getByRole('link', { name: 'Your data' }).click();
  await expect(userPage.getByTestId('consents').locator('li')).toHaveCount(3);
});
