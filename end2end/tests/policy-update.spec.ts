import { test, expect } from '@playwright/test';
import { adminOneTimePassword, OTHER_STRONG_PASSWORD, registerAndVerify, signIn, uniqueEmail, waitForMail } from './support';

test('a published policy is mailed, and the next sign-in requires a decision', async ({ browser, baseURL }) => {
  // A user who accepted version 1 at registration.
  const userPage = await (await browser.newContext()).newPage();
  const email = uniqueEmail('reader');
  await registerAndVerify(userPage, email);
  // The link signed this browser in; the decision comes at the next sign-in.
  await userPage.getByTestId('sign-out').click();
  await expect(userPage).toHaveURL(/\/login$/);

  // The admin: one-time password, then their own, then the policies (never accepted yet).
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, 'admin@e2e.test', { password: adminOneTimePassword() });
  await expect(admin.getByText('This is a one-time password')).toBeVisible();
  // Nothing is offered over what must be settled first.
  await expect(admin.getByTestId('storage-offer')).toHaveCount(0);
  await admin.getByLabel('Current password').fill(adminOneTimePassword());
  await admin.getByLabel('New password').fill(OTHER_STRONG_PASSWORD);
  await admin.getByRole('button', { name: 'Change password' }).click();
  await expect(admin.getByTestId('policy-gate')).toBeVisible();
  await expect(admin.getByTestId('storage-offer')).toHaveCount(0);
  // The first admin never accepted anything: there is nothing "changed" to read.
  await expect(admin.getByRole('heading', { level: 1 })).toHaveText('Please read our policies');
  await expect(admin.getByTestId('policy-summary')).toHaveCount(0);
  await admin.getByRole('button', { name: 'Accept' }).click();
  await expect(admin.getByTestId('policy-gate')).toHaveCount(0);
  await expect(admin.getByTestId('storage-offer')).toBeVisible();

  // The record of processing activities renders from the same inventory as /privacy.
  await admin.getByRole('link', { name: 'Admin' }).click();
  await admin.getByRole('link', { name: 'Record of processing activities' }).click();
  await expect(admin.getByTestId('processing-record')).toContainText('signin_event');
  await expect(admin.getByTestId('processing-record')).toContainText('Legitimate interest');

  // Publishing from the admin panel.
  await admin.goto('/admin/policies');
  await admin.locator('#policy_title').fill('Privacy policy');
  await admin.getByLabel('What changed').fill('Sign-in history is now kept 14 days.');
  await admin.getByLabel('Full text').fill('The new full text, with <script>alert(1)</script> as plain text.');
  await admin.locator('#policy_password').fill(OTHER_STRONG_PASSWORD);
  await admin.getByRole('button', { name: 'Publish' }).click();
  await expect(admin.getByTestId('policy-published')).toContainText('version 2');

  const mail = await waitForMail(email, 'We updated our Privacy policy');
  expect(mail).toContain('Sign-in history is now kept 14 days.');

  await userPage.goto('/admin/processing');
  await expect(userPage.getByTestId('processing-record')).toHaveCount(0);
  await signIn(userPage, email);
  await expect(userPage.getByTestId('policy-gate')).toBeVisible();
  await expect(userPage.getByRole('heading', { level: 1 })).toHaveText('Our policies changed');
  await expect(userPage.getByTestId('policy-summary')).toContainText('14 days');
  // Policy text is shown as text, never run as markup.
  const dialogs: string[] = [];
  userPage.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await userPage.getByText('Read the full text').click();
  await expect(userPage.locator('.policy-body')).toContainText('<script>alert(1)</script>');
  expect(dialogs).toEqual([]);
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
