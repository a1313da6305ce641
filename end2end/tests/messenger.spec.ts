import { expect, test, type Page } from '@playwright/test';
import { accountWithPage, connectPage, registerAndVerify, signIn, standin, uniqueEmail, waitForMail } from './support';

/** Reloads until `check` passes: the lead's name arrives with a background profile fetch. */
async function eventually(page: Page, check: () => Promise<void>) {
  await expect(async () => {
    await page.reload();
    await check();
  }).toPass({ timeout: 20_000 });
}

test('connect Pages both ways, a lead writes, reply from the inbox, verify the opt-in proof', async ({ page, request }) => {
  const email = uniqueEmail('messenger');
  const n = Date.now() % 1_000_000_000;
  const manualId = `7${n}`;
  const loginId = `8${n}`;
  await standin(request, '/_standin/pages', { id: manualId, name: `Manual Shop ${n}`, token: `tok-manual-${n}` });
  await standin(request, '/_standin/pages', { id: loginId, name: `Login Shop ${n}`, token: `tok-login-${n}` });
  await registerAndVerify(page, email);
  await signIn(page, email);

  // Manually: Page id and token, checked against the Graph API.
  await page.getByRole('link', { name: 'Pages', exact: true }).click();
  await expect(page.getByTestId('no-pages')).toBeVisible();
  await page.getByLabel('Page id').fill(manualId);
  await page.getByLabel('Page access token').fill('wrong-token');
  await page.getByRole('button', { name: 'Check and connect' }).click();
  await expect(page.getByTestId('form-error')).toContainText('did not accept');
  await page.getByLabel('Page access token').fill(`tok-manual-${n}`);
  await page.getByRole('button', { name: 'Check and connect' }).click();
  await expect(page.getByTestId('page-connected')).toBeVisible();
  await expect(page.getByTestId('pages')).toContainText(`Manual Shop ${n}`);

  // Facebook Login: the stand-in's dialog, then pick the Page.
  await page.getByTestId('facebook-login').click();
  await expect(page).toHaveURL(/\/dialog\/oauth\?/);
  await page.locator('#continue').click();
  await expect(page).toHaveURL(/\/pages\/facebook\?code=/);
  await page.getByLabel(`Login Shop ${n}`).check();
  await page.getByRole('button', { name: 'Connect the chosen Pages' }).click();
  await expect(page).toHaveURL(/\/pages$/);
  await expect(page.getByTestId('page-row')).toHaveCount(2);
  await expect(page.getByTestId('pages')).toContainText(`Login Shop ${n}`);

  // A person writes to the manual Page; their name is markup, shown as text.
  const psid = `psid-${n}`;
  const hostile = '<img src=x onerror="document.title=1">';
  const sent = await standin(request, '/_standin/simulate', {
    page_id: manualId, psid, first_name: hostile, last_name: 'Doe', text: 'Hello from Messenger',
  });
  expect(sent.app_status).toBe(200);
  await page.goto('/leads');
  await eventually(page, async () => {
    await page.locator('#lead_page').selectOption({ label: `Login Shop ${n}` });
    await page.locator('#lead_page').selectOption({ label: `Manual Shop ${n}` });
    await expect(page.getByTestId('leads')).toContainText(`${hostile} Doe`, { timeout: 1000 });
  });
  await expect(page.getByTestId('leads').locator('img')).toHaveCount(0);
  await expect(page.getByTestId('lead-window').first()).toContainText('Open');

  // The inbox: the message, then a reply the stand-in receives.
  await page.getByRole('link', { name: `${hostile} Doe` }).click();
  await expect(page.getByTestId('conversation')).toContainText('Hello from Messenger');
  await expect(page.getByTestId('reply-rule')).toContainText('Window open');
  // An open window is good news, not styled as a warning.
  await expect(page.getByTestId('reply-rule')).toHaveClass('window-open');
  await page.getByLabel('Your reply').fill('Thanks for writing! How can we help?');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('reply-outcome')).toContainText('Sent.');
  const received = await standin(request, '/_standin/sent');
  const reply = received.find((m: any) => m.psid === psid);
  expect(reply).toMatchObject({ page_id: manualId, messaging_type: 'RESPONSE', text: 'Thanks for writing! How can we help?' });
  await expect(page.getByTestId('conversation')).toContainText('Thanks for writing!');

  // The opt-in proof checks out against the app secret.
  await page.getByTestId('verify-proof').click();
  await expect(page.getByTestId('proof-result')).toContainText('Valid: the signature matches the kept delivery (app secret version 1)');
  expect(await page.title()).not.toBe('1');
});

test('labels, filters and deleting a lead', async ({ page, request }) => {
  const email = uniqueEmail('labels');
  const n = Date.now() % 1_000_000_000;
  const pageId = `6${n}`;
  await standin(request, '/_standin/pages', { id: pageId, name: `Label Shop ${n}`, token: `tok-label-${n}` });
  await registerAndVerify(page, email);
  await signIn(page, email);
  await connectPage(page, pageId, `tok-label-${n}`);
  for (const [psid, first] of [[`la-${n}`, 'Ana'], [`lb-${n}`, 'Bruno']]) {
    await standin(request, '/_standin/simulate', { page_id: pageId, psid, first_name: first, last_name: 'Test', text: 'hi' });
  }
  await standin(request, '/_standin/simulate', { page_id: pageId, psid: `lb-${n}`, text: 'STOP' });
  await page.goto('/leads');
  await eventually(page, async () => {
    await expect(page.getByTestId('lead-row')).toHaveCount(2, { timeout: 1000 });
    await expect(page.getByTestId('leads')).toContainText('Bruno Test', { timeout: 1000 });
    await expect(page.getByTestId('leads')).toContainText('Ana Test', { timeout: 1000 });
  });

  await page.getByLabel('New label').fill('VIP');
  await page.getByRole('button', { name: 'Create label' }).click();
  // Labelling waits until both a label and a lead are chosen.
  const add = page.getByRole('button', { name: 'Add label' });
  await expect(add).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Remove label' })).toBeDisabled();
  await page.getByLabel('Label for the selected leads').selectOption({ label: 'VIP' });
  await expect(add).toBeDisabled();
  await page.getByLabel('Select Ana Test').check();
  await expect(add).toBeEnabled();
  await add.click();
  await expect(page.getByTestId('labels-assigned')).toContainText('1 leads changed');
  await page.getByLabel('New name for VIP').fill('Gold');
  await page.getByRole('button', { name: 'Rename' }).click();
  await expect(page.getByTestId('leads')).toContainText('Gold');
  await page.locator('#lead_label').selectOption({ label: 'Gold' });
  await expect(page.getByTestId('lead-row')).toHaveCount(1);
  await expect(page.getByTestId('leads')).toContainText('Ana Test');
  await page.locator('#lead_label').selectOption({ label: 'Any' });
  await page.locator('#lead_subscribed').selectOption({ label: 'Unsubscribed' });
  await expect(page.getByTestId('lead-row')).toHaveCount(1);
  await expect(page.getByTestId('leads')).toContainText('Bruno Test');
  await page.locator('#lead_subscribed').selectOption({ label: 'Any' });
  await page.getByLabel('Search names').fill('bruno');
  await page.getByLabel('Search names').press('Enter');
  await expect(page.getByTestId('lead-row')).toHaveCount(1);
  await expect(page.getByTestId('lead-count')).toHaveText('1 shown');

  // Opening a conversation and coming back keeps the list's filters.
  await page.getByRole('link', { name: 'Bruno Test' }).click();
  await expect(page.getByTestId('conversation')).toContainText('STOP');
  await page.locator('header').getByRole('link', { name: 'Leads', exact: true }).click();
  await expect(page.getByLabel('Search names')).toHaveValue('bruno');
  await expect(page.getByTestId('lead-row')).toHaveCount(1);
  await expect(page.getByTestId('leads')).toContainText('Bruno Test');
  await page.getByLabel('Search names').fill('');
  await page.getByLabel('Search names').press('Enter');
  // Without a name search, the count is of every lead the filters match.
  await expect(page.getByTestId('lead-count')).toHaveText('2 leads');

  // Deleting a label says what it does first, and keeps the leads.
  await page.getByLabel('New label').fill('Temp');
  await page.getByRole('button', { name: 'Create label' }).click();
  await page.getByRole('button', { name: 'Delete Temp…' }).click();
  await expect(page.getByTestId('confirmation')).toContainText('The leads themselves stay');
  await page.getByRole('button', { name: 'Yes, delete Temp' }).click();
  await expect(page.getByLabel('New name for Temp')).toHaveCount(0);
  await expect(page.getByLabel('New name for Gold')).toBeVisible();
  await expect(page.getByTestId('lead-row')).toHaveCount(2);

  await page.getByRole('link', { name: 'Bruno Test' }).click();
  await expect(page.getByTestId('conversation')).toContainText('STOP');
  await page.getByRole('button', { name: 'Delete lead…' }).click();
  await expect(page.getByTestId('confirmation')).toContainText('cannot be undone');
  await page.getByRole('button', { name: 'Yes, delete the lead' }).click();
  // Back to the inbox, where the conversation is gone, as it is from the leads.
  await expect(page).toHaveURL(/\/inbox$/);
  await expect(page.getByTestId('thread')).toHaveCount(1);
  await expect(page.getByTestId('threads')).not.toContainText('Bruno');
  await page.getByRole('link', { name: 'Leads', exact: true }).click();
  await expect(page.getByTestId('lead-row')).toHaveCount(1);
  await expect(page.getByTestId('leads')).not.toContainText('Bruno');
});

test('a Page another account holds is refused while its access works, then taken over, and the first owner is told', async ({ page, request, browser }) => {
  const n = Date.now() % 1_000_000_000;
  const pageId = `6${n}`;
  const first = uniqueEmail('first-owner');
  await standin(request, '/_standin/pages', { id: pageId, name: `Handover Shop ${n}`, token: `tok-first-${n}` });
  await registerAndVerify(page, first);
  await signIn(page, first);
  await connectPage(page, pageId, `tok-first-${n}`);

  // Another admin of the Page, in another browser.
  const second = await (await browser.newContext()).newPage();
  const secondEmail = uniqueEmail('second-owner');
  await registerAndVerify(second, secondEmail);
  await signIn(second, secondEmail);
  await second.goto('/pages');
  await second.getByLabel('Page id').fill(pageId);
  await second.getByLabel('Page access token').fill(`tok-first-${n}`);
  await second.getByRole('button', { name: 'Check and connect' }).click();
  await expect(second.getByTestId('form-error')).toContainText('once Facebook no longer accepts that account');

  // Facebook stops accepting the first owner's token; the second admin has a new one.
  await standin(request, '/_standin/revoke', { page_id: pageId });
  await standin(request, '/_standin/pages', { id: pageId, name: `Handover Shop ${n}`, token: `tok-second-${n}` });
  await second.getByLabel('Page access token').fill(`tok-second-${n}`);
  await second.getByRole('button', { name: 'Check and connect' }).click();
  await expect(second.getByTestId('page-connected')).toBeVisible();
  await expect(second.getByTestId('pages')).toContainText(`Handover Shop ${n}`);

  const mail = await waitForMail(first, 'Your Page was connected by another account');
  expect(mail).toContain(`Handover Shop ${n}`);
  expect(mail).not.toContain(secondEmail);
  await page.goto('/pages');
  await expect(page.getByTestId('pages')).toContainText(`Handover Shop ${n}`);
  await expect(page.getByTestId('pages')).toContainText(/disconnected/i);
});

test('the inbox shows new messages live, unread until opened, beside the open conversation', async ({ page, request }) => {
  const { n, pageId } = await accountWithPage(page, request, 'inbox', 'Live Shop', '2');
  await page.getByRole('link', { name: 'Inbox', exact: true }).click();
  await expect(page.getByTestId('no-conversations')).toBeVisible();
  await expect(page.getByTestId('live-state')).toContainText('Live');

  // A person writes: the conversation appears without a reload, unread.
  const psid = `live-${n}`;
  await standin(request, '/_standin/simulate', { page_id: pageId, psid, first_name: 'Lina', last_name: 'Live', text: 'Is the shop open today?' });
  const thread = page.getByTestId('thread').first();
  await expect(thread.getByTestId('thread-preview')).toHaveText('Is the shop open today?');
  await expect(thread.getByTestId('unread')).toHaveText('1');
  await expect(thread.getByTestId('thread-name')).toHaveText('Lina Live');

  // Opened, it is read; the next message appears in it by itself.
  await thread.getByRole('link').click();
  await expect(page).toHaveURL(/\/inbox\/[0-9a-z]+$/);
  await expect(thread.getByRole('link')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('conversation')).toContainText('Is the shop open today?');
  await expect(thread.getByTestId('unread')).toHaveCount(0);
  await standin(request, '/_standin/simulate', { page_id: pageId, psid, text: 'Until what time?' });
  await expect(page.getByTestId('conversation')).toContainText('Until what time?');
  await expect(thread.getByTestId('thread-preview')).toHaveText('Until what time?');
  await expect(thread.getByTestId('unread')).toHaveCount(0);

  // A reply shows as the preview, from "You".
  await page.getByLabel('Your reply').fill('Until seven.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(thread.getByTestId('thread-preview')).toHaveText('You: Until seven.');

  // On a phone, one pane at a time, and nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByTestId('threads')).toBeHidden();
  await expect(page.getByTestId('conversation')).toBeVisible();
  await page.getByRole('link', { name: '← All conversations' }).click();
  await expect(page.getByTestId('threads')).toBeVisible();
  await expect(page.getByTestId('conversation')).toHaveCount(0);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});
