import { expect, test } from '@playwright/test';
import {
  accessibilityViolations, accountWithPage, OTHER_STRONG_PASSWORD, signIn, standin, STRONG_PASSWORD, tabTo, waitForLeads,
} from './support';

test('no page has a serious or critical accessibility violation, signed out, signed in, as a lead or as an admin', async ({ page, browser, request }) => {
  test.setTimeout(240_000);
  const problems: string[] = [];
  for (const path of ['/', '/register', '/login', '/forgot-password', '/privacy', '/terms', '/no-such-page',
    '/verify-email?token=stale', '/reset-password?token=stale', '/confirm-email?token=stale', '/data-deletion?code=unknown0000']) {
    await page.goto(path);
    problems.push(...await accessibilityViolations(page, path));
  }

  const { n, pageId } = await accountWithPage(page, request, 'axe', 'Axe Shop', '4');
  await standin(request, '/_standin/simulate', { page_id: pageId, psid: `axe-${n}`, first_name: 'Alma', last_name: 'Axe', text: 'hello' });
  await waitForLeads(page, 1);
  // The name comes with a profile fetch a moment after the message.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole('link', { name: 'Alma Axe' })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  problems.push(...await accessibilityViolations(page, '/leads'));
  await page.getByRole('link', { name: 'Alma Axe' }).click();
  await expect(page.getByTestId('conversation')).toContainText('hello');
  problems.push(...await accessibilityViolations(page, 'a conversation'));
  await page.goto('/campaigns');
  await page.getByLabel('Name', { exact: true }).fill('Axe news');
  await page.getByLabel('Message', { exact: true }).fill('Hi {{email}}!');
  await expect(page.getByTestId('error-text')).toBeVisible();
  problems.push(...await accessibilityViolations(page, 'the composer with an error'));
  await page.getByLabel('Message', { exact: true }).fill('Hi {{first_name}}!');
  await page.getByRole('button', { name: 'Next: audience' }).click();
  await page.getByText('Advanced', { exact: true }).click();
  problems.push(...await accessibilityViolations(page, 'the audience step'));
  await page.getByRole('button', { name: 'Next: review' }).click();
  await expect(page.getByTestId('audience-count')).toBeVisible();
  problems.push(...await accessibilityViolations(page, 'the review step'));
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f]+$/);
  await page.getByRole('button', { name: 'Send now…' }).click();
  problems.push(...await accessibilityViolations(page, 'the send confirmation'));
  await page.getByRole('button', { name: 'Yes, send to 1 lead' }).click();
  await expect(page.getByTestId('progress-text')).toContainText('100%', { timeout: 30_000 });
  problems.push(...await accessibilityViolations(page, 'a campaign report'));
  for (const path of ['/', '/inbox', '/pages', '/account', '/account/security', '/account/privacy']) {
    await page.goto(path);
    problems.push(...await accessibilityViolations(page, `${path} (signed in)`));
  }

  // The lead's own page, from the campaign's link.
  const sent = await standin(request, '/_standin/sent');
  const toAlma = sent.find((m: any) => m.psid === `axe-${n}` && m.text.includes('Unsubscribe: '));
  const lead = await (await browser.newContext()).newPage();
  await lead.goto(new URL(toAlma.text.split('Unsubscribe: ')[1]).pathname);
  await expect(lead.getByRole('heading', { level: 1 })).toContainText('Axe Shop');
  problems.push(...await accessibilityViolations(lead, "the lead's page"));

  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, 'admin@e2e.test', { password: OTHER_STRONG_PASSWORD });
  const gate = admin.getByTestId('policy-gate');
  if (await gate.isVisible()) {
    problems.push(...await accessibilityViolations(admin, 'the policy gate'));
    await gate.getByRole('button', { name: 'Accept' }).click();
    await expect(gate).toBeHidden();
  }
  for (const path of ['/admin', '/admin/users', '/admin/policies', '/admin/recipients', '/admin/breaches', '/admin/retention',
    '/admin/facebook-app', '/admin/log', '/admin/processing']) {
    await admin.goto(path);
    await expect(admin.locator('main h1')).toBeVisible();
    problems.push(...await accessibilityViolations(admin, path));
  }
  expect(problems).toEqual([]);
});

test('signing in, replying and sending a campaign work with the keyboard alone', async ({ page, request }) => {
  test.setTimeout(120_000);
  const { email, n, pageId } = await accountWithPage(page, request, 'keys', 'Key Shop', '3');
  await standin(request, '/_standin/simulate', { page_id: pageId, psid: `keys-${n}`, first_name: 'Kai', last_name: 'Keys', text: 'hello' });
  // Home lists the first steps: the Page is connected, the rest is still to do.
  await page.goto('/');
  await expect(page.getByTestId('steps-done')).toHaveText('1 of 3 done');
  await expect(page.getByTestId('step-open')).toHaveText(['Answer a lead', 'Send a first campaign']);
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);

  // The skip link comes first and moves to the content.
  await page.goto('/login');
  await expect(page.getByLabel('Email')).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();

  // Sign in.
  await tabTo(page, page.getByLabel('Email'));
  await page.keyboard.type(email);
  await tabTo(page, page.getByLabel('Password', { exact: true }));
  await page.keyboard.type(STRONG_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('signed-in-as')).toBeVisible();
  // The current page is marked in the navigation.
  await tabTo(page, page.getByRole('link', { name: 'Leads', exact: true }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('link', { name: 'Leads', exact: true })).toHaveAttribute('aria-current', 'page');

  // Reply.
  await expect(async () => {
    await page.reload();
    // Listed with the name the profile fetch brings a moment later.
    await expect(page.getByRole('link', { name: 'Kai Keys' })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await tabTo(page, page.getByRole('link', { name: 'Kai Keys' }));
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('conversation')).toContainText('hello');
  await tabTo(page, page.getByLabel('Your reply'));
  await page.keyboard.type('Typed without a mouse.');
  await tabTo(page, page.getByRole('button', { name: 'Send', exact: true }));
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('reply-outcome')).toContainText('Sent.');

  // Compose and send a campaign.
  await tabTo(page, page.getByRole('link', { name: 'Campaigns', exact: true }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/campaigns$/);
  await tabTo(page, page.getByLabel('Name', { exact: true }));
  await page.keyboard.type('Keyboard news');
  await tabTo(page, page.getByLabel('Message', { exact: true }));
  await page.keyboard.type('Hi {{first_name}}!');
  await tabTo(page, page.getByRole('button', { name: 'Next: audience' }));
  await page.keyboard.press('Enter');
  await tabTo(page, page.getByRole('button', { name: 'Next: review' }));
  await page.keyboard.press('Enter');
  await tabTo(page, page.getByRole('button', { name: 'Save draft' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f]+$/);
  // Enabled once the audience is counted.
  await expect(page.getByRole('button', { name: 'Send now…' })).toBeEnabled();
  await tabTo(page, page.getByRole('button', { name: 'Send now…' }));
  await page.keyboard.press('Enter');
  await tabTo(page, page.getByRole('button', { name: 'Yes, send to 1 lead' }));
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('progress-text')).toContainText('100%', { timeout: 30_000 });
  await tabTo(page, page.getByRole('link', { name: 'Chat FB Top' }));
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('steps-done')).toHaveText('3 of 3 done');
  const sent = await standin(request, '/_standin/sent');
  expect(sent.filter((m: any) => m.psid === `keys-${n}`).map((m: any) => m.text.split('\n')[0])).toEqual(['Typed without a mouse.', 'Hi Kai!']);
});
