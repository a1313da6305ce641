import { expect, test, type Page } from '@playwright/test';
import { connectPage, registerAndVerify, signIn, standin, uniqueEmail } from './support';

async function sendCampaign(page: Page, name: string, label: string, expectReachable: number) {
  await page.goto('/campaigns');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Message', { exact: true }).fill('Hi {{first_name}}, the spring collection is here!');
  await page.getByLabel(`Include ${label}`).check();
  await page.getByRole('button', { name: 'Preview audience' }).click();
  await expect(page.getByTestId('audience-count')).toContainText(`Reachable now: ${expectReachable}`);
  await expect(page.getByTestId('audience-preview')).toContainText('Unsubscribe: https://');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f]+$/);
  await page.getByRole('button', { name: 'Send now' }).click();
  await expect(page.getByTestId('progress-text')).toContainText('100%', { timeout: 30_000 });
  await expect(page.getByTestId('campaign-state')).toHaveText('Completed');
  await expect(page.getByTestId('progress')).toHaveAttribute('aria-valuenow', '100');
}

test('a campaign to one label: progress to 100%, unsubscribe link, the next campaign skips, erase my data', async ({ page, request, browser }) => {
  const email = uniqueEmail('campaign');
  const n = Date.now() % 1_000_000_000;
  const pageId = `5${n}`;
  await standin(request, '/_standin/pages', { id: pageId, name: `Campaign Shop ${n}`, token: `tok-campaign-${n}` });
  await registerAndVerify(page, email);
  await signIn(page, email);
  await connectPage(page, pageId, `tok-campaign-${n}`);
  const people = [[`ca-${n}`, 'Ana'], [`cb-${n}`, 'Bruno'], [`cc-${n}`, 'Carla']];
  for (const [psid, first] of people) {
    await standin(request, '/_standin/simulate', { page_id: pageId, psid, first_name: first, last_name: 'Shopper', text: 'hello' });
  }

  // Label two of the three leads.
  await page.goto('/leads');
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('lead-row')).toHaveCount(3, { timeout: 1000 });
    await expect(page.getByTestId('leads')).toContainText('Carla Shopper', { timeout: 1000 });
    await expect(page.getByTestId('leads')).toContainText('Ana Shopper', { timeout: 1000 });
    await expect(page.getByTestId('leads')).toContainText('Bruno Shopper', { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await page.getByLabel('New label').fill('Spring');
  await page.getByRole('button', { name: 'Create label' }).click();
  await page.getByLabel('Select Ana Shopper').check();
  await page.getByLabel('Select Bruno Shopper').check();
  await page.getByLabel('Label for the selected leads').selectOption({ label: 'Spring' });
  await page.getByRole('button', { name: 'Add label' }).click();
  await expect(page.getByTestId('labels-assigned')).toContainText('2 leads changed');

  await sendCampaign(page, 'Spring launch', 'Spring', 2);
  const sent = await standin(request, '/_standin/sent');
  const toAna = sent.find((m: any) => m.psid === `ca-${n}`);
  const toBruno = sent.find((m: any) => m.psid === `cb-${n}`);
  expect(sent.find((m: any) => m.psid === `cc-${n}`)).toBeUndefined();
  expect(toAna.text).toMatch(/^Hi Ana, the spring collection is here!\n\nUnsubscribe: https:\/\/localhost:\d+\/u\/[0-9a-z]+$/);
  expect(toAna.messaging_type).toBe('UPDATE');
  expect(toAna.tag).toBeNull();

  // The lead opens the link: no sign-in, one click.
  const lead = await (await browser.newContext()).newPage();
  await lead.goto(new URL(toAna.text.split('Unsubscribe: ')[1]).pathname);
  await expect(lead.getByText(`Campaign Shop ${n}`)).toBeVisible();
  await lead.getByTestId('unsubscribe').click();
  await expect(lead.getByTestId('unsubscribed')).toBeVisible();
  await lead.reload();
  await expect(lead.getByTestId('already-unsubscribed')).toBeVisible();

  // The next campaign to the same label skips Ana.
  const before = (await standin(request, '/_standin/sent')).length;
  await sendCampaign(page, 'Spring reminder', 'Spring', 1);
  const after = (await standin(request, '/_standin/sent')).slice(before);
  expect(after.map((m: any) => m.psid)).toEqual([`cb-${n}`]);

  // "Erase my data" from Bruno's link removes the lead.
  const other = await (await browser.newContext()).newPage();
  await other.goto(new URL(toBruno.text.split('Unsubscribe: ')[1]).pathname);
  await other.getByTestId('erase').click();
  await expect(other.getByTestId('erased')).toBeVisible();
  await page.goto('/leads');
  await expect(page.getByTestId('lead-row')).toHaveCount(2);
  await expect(page.getByTestId('leads')).not.toContainText('Bruno');
});
