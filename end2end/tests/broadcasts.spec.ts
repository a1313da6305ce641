import { expect, test, type Page } from '@playwright/test';
import { accountWithPage, composeCampaign, connectPage, registerAndVerify, signIn, standin, uniqueEmail, waitForLeads } from './support';

/** Sends a campaign from the composer and returns its page's path. */
async function sendCampaign(page: Page, name: string, label: string, expectReachable: number): Promise<string> {
  await page.goto('/campaigns');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Message', { exact: true }).fill('Hi {{first_name}}, the spring collection is here!');
  await page.getByRole('button', { name: 'Next: audience' }).click();
  await page.getByLabel(`Include ${label}`).check();
  await page.getByRole('button', { name: 'Next: review' }).click();
  await expect(page.getByTestId('audience-count')).toContainText(`Reachable now: ${expectReachable}`);
  await expect(page.getByTestId('audience-preview')).toContainText('Unsubscribe: https://');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f]+$/);
  // The message as a lead sees it, with their values and the footer.
  await expect(page.getByTestId('message-as-seen')).toContainText('Unsubscribe: https://');
  await expect(page.getByTestId('message-as-seen')).not.toContainText('{{first_name}}');
  // Sending asks first, with the audience count.
  await page.getByRole('button', { name: 'Send now…' }).click();
  await expect(page.getByTestId('confirmation')).toContainText(`now to ${expectReachable} lead`);
  await page.getByRole('button', { name: /^Yes, send to \d+ leads?$/ }).click();
  await expect(page.getByTestId('progress-text')).toContainText('100%', { timeout: 30_000 });
  await expect(page.getByTestId('campaign-state')).toHaveText('Completed');
  await expect(page.getByTestId('progress')).toHaveAttribute('aria-valuenow', '100');
  return new URL(page.url()).pathname;
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

  const launch = await sendCampaign(page, 'Spring launch', 'Spring', 2);
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
  await expect(lead.getByRole('heading', { level: 1 })).toHaveText(`Your messages from Campaign Shop ${n}`);
  // The page stands alone: a lead has no account here, so no app navigation.
  await expect(lead.locator('header.site-header')).toHaveCount(0);
  await expect(lead.getByRole('link', { name: 'Sign in' })).toHaveCount(0);
  await expect(lead.getByRole('link', { name: 'Create account' })).toHaveCount(0);
  await lead.getByTestId('unsubscribe').click();
  await expect(lead.getByTestId('unsubscribed')).toContainText(`Campaign Shop ${n} will send you no more campaign messages`);
  // Only what still applies: no second Unsubscribe.
  await expect(lead.getByTestId('unsubscribe')).toHaveCount(0);
  await lead.reload();
  await expect(lead.getByTestId('already-unsubscribed')).toBeVisible();
  await expect(lead.getByTestId('unsubscribe')).toHaveCount(0);
  await expect(lead.getByRole('button', { name: 'Erase my data…' })).toBeVisible();

  // The next campaign to the same label skips Ana.
  const before = (await standin(request, '/_standin/sent')).length;
  await sendCampaign(page, 'Spring reminder', 'Spring', 1);
  const after = (await standin(request, '/_standin/sent')).slice(before);
  expect(after.map((m: any) => m.psid)).toEqual([`cb-${n}`]);

  // "Erase my data" from Bruno's link removes the lead.
  const other = await (await browser.newContext()).newPage();
  const brunoLink = new URL(toBruno.text.split('Unsubscribe: ')[1]).pathname;
  await other.goto(brunoLink);
  // Erasing asks first, saying what it does; "Go back" changes nothing.
  await other.getByRole('button', { name: 'Erase my data…' }).click();
  await expect(other.getByTestId('confirmation')).toContainText('It cannot be undone');
  await other.getByRole('button', { name: 'Go back' }).click();
  await expect(other.getByTestId('confirmation')).toHaveCount(0);
  await other.getByRole('button', { name: 'Erase my data…' }).click();
  await other.getByRole('button', { name: 'Yes, erase my data' }).click();
  await expect(other.getByTestId('erased')).toBeVisible();
  await expect(other.getByRole('button')).toHaveCount(0);
  // The erased link, and a link that never was, offer nothing.
  for (const path of [brunoLink, '/u/notatoken']) {
    await other.goto(path);
    await expect(other.getByTestId('form-error')).toBeVisible();
    await expect(other.getByRole('button')).toHaveCount(0);
  }
  await page.goto('/leads');
  await expect(page.getByTestId('lead-row')).toHaveCount(2);
  await expect(page.getByTestId('leads')).not.toContainText('Bruno');

  // The first campaign's report: Ana's unsubscribe counts for it (the last
  // campaign she was sent), and Bruno's erasure changed none of its counts.
  await page.goto(launch);
  const tile = (name: string) => page.getByTestId(`tile-${name}`);
  await expect(tile('audience')).toHaveText('2');
  await expect(tile('sent')).toHaveText('2');
  await expect(tile('unsubscribed')).toHaveText('1');
  await expect(tile('failed')).toHaveText('0');
  await expect(tile('delivered')).toHaveText(/^(\d+%|–)$/);
  await expect(tile('started')).not.toHaveText('Not started');
  await expect(tile('finished')).not.toHaveText(/Still under way|–/);
  await expect(page.getByTestId('no-failures')).toBeVisible();
  // The chart has its scales, times and a legend in the lines' own colours.
  // Two messages: the scale ends at 1 (one per interval) or 2 (both in one).
  await expect(page.getByTestId('scale-sent').first()).toHaveText('0');
  await expect(page.getByTestId('scale-sent').last()).toHaveText(/^(1|2)$/);
  await expect(page.getByTestId('scale-share')).toHaveText(['0%', '50%', '100%']);
  await expect(page.getByTestId('scale-time').first()).toHaveText(/^\d\d:\d\d:\d\d$/);
  for (const series of ['bar', 'delivered', 'read']) {
    const colours = await page.evaluate((name) => {
      const mark = document.querySelector(`[data-testid=chart] .${name}`);
      const swatch = document.querySelector(`[data-testid=legend] .swatch.${name}`);
      const drawn = mark ? getComputedStyle(mark)[name === 'bar' ? 'fill' : 'stroke'] : 'none';
      return { drawn, swatch: swatch ? getComputedStyle(swatch).backgroundColor : 'none' };
    }, series);
    expect(colours.drawn, `${series} is drawn`).not.toBe('none');
    expect(colours.swatch, `the legend's ${series} swatch`).toBe(colours.drawn);
  }

  // The home page now shows the account's day: Bruno's erasure took his
  // lead away, and his unsubscribe (kept after erasure) stays counted.
  await page.goto('/');
  await expect(page.getByTestId('steps-done')).toHaveText('2 of 3 done');
  await expect(page.getByTestId('today')).toHaveText('Today: 2 new leads, 2 unsubscribes.');
  await expect(page.getByTestId('open-conversations')).toContainText('2 conversations');
  await expect(page.getByTestId('recent-campaigns').getByRole('link')).toHaveText(['Spring reminder', 'Spring launch']);
  await expect(page.getByTestId('days-chart').locator('rect.new-leads')).toHaveCount(14);
  await page.getByTestId('recent-campaigns').getByRole('link', { name: 'Spring launch' }).click();
  await expect(page).toHaveURL(new RegExp(`${launch}$`));
});

test('mid-send, the progress bar shows the share sent and the time left counts in seconds', async ({ page, request }) => {
  const { n, pageId } = await accountWithPage(page, request, 'midsend', 'Slow Shop', '8');
  const people = 8;
  for (let i = 0; i < people; i++) {
    await standin(request, '/_standin/simulate', { page_id: pageId, psid: `slow-${i}-${n}`, first_name: `P${i}`, last_name: 'Slow', text: 'hi' });
  }
  await waitForLeads(page, people);

  // One message a second: the send takes about eight seconds.
  await page.goto('/campaigns');
  await composeCampaign(page, { name: 'Slow news', text: 'Hi {{first_name}}!', rate: '1' });
  await page.getByRole('button', { name: 'Send now…' }).click();
  await page.getByRole('button', { name: `Yes, send to ${people} leads` }).click();

  // The bar and its text, read at one moment.
  const read = () => page.evaluate(() => ({
    value: Number((document.querySelector('[data-testid=progress]') as HTMLProgressElement | null)?.value ?? 0),
    text: document.querySelector('[data-testid=progress-text]')?.textContent ?? '',
  }));
  await expect.poll(async () => (await read()).value, { timeout: 20_000, intervals: [100] }).toBeGreaterThan(0);
  const mid = await read();
  expect(mid.value).toBeGreaterThan(0);
  expect(mid.value).toBeLessThan(100);
  expect(mid.text).toContain(`${mid.value}%`);
  // Under a minute left reads in seconds, never "about 1 min".
  expect(mid.text).toMatch(/about \d+ s left/);
  const secondsLeft = Number(mid.text.match(/about (\d+) s left/)![1]);
  expect(secondsLeft).toBeLessThanOrEqual(people);
  // A confirmation opened mid-send stays open while the page refreshes every second.
  await page.getByRole('button', { name: 'Cancel campaign…' }).click();
  await page.waitForTimeout(2000);
  await expect(page.getByTestId('confirmation')).toContainText('cannot be resumed');
  await page.getByRole('button', { name: 'Go back' }).click();

  await expect(page.getByTestId('progress-text')).toContainText('100%', { timeout: 30_000 });
  await expect(page.getByTestId('progress')).toHaveAttribute('value', '100');
  // An empty report says so instead of showing an empty table.
  await expect(page.getByTestId('no-failures')).toBeVisible();
  await expect(page.getByTestId('report')).toHaveCount(0);

  // Cancelling a draft says first that it is for good.
  await page.goto('/campaigns');
  await composeCampaign(page, { name: 'Never sent', text: 'Hello' });
  await page.getByRole('button', { name: 'Cancel campaign…' }).click();
  await expect(page.getByTestId('confirmation')).toContainText('cannot be resumed');
  await page.getByRole('button', { name: 'Yes, cancel the campaign' }).click();
  await expect(page.getByTestId('campaign-state')).toHaveText('Cancelled');
});

test('the composer: three steps, errors at the field as you type, quick replies or a button, a real lead in the preview', async ({ page, request }) => {
  const { n, pageId } = await accountWithPage(page, request, 'composer', 'Compose Shop', '1');
  await standin(request, '/_standin/simulate', { page_id: pageId, psid: `cmp-${n}`, first_name: 'Cora', last_name: 'Compose', text: 'hello' });
  await waitForLeads(page, 1);
  await page.goto('/campaigns');
  await expect(page.locator('.steps [aria-current="step"]')).toHaveText('Message');

  // An error shows at its field while typing, and goes once mended.
  const message = page.getByLabel('Message', { exact: true });
  await message.fill('Hi {{email}}');
  await expect(message).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('error-text')).toContainText('unknown variable {{email}}');
  await expect(message).toHaveAttribute('aria-describedby', 'campaign_text-error');
  await message.fill('Hi {{first_name}}!');
  await expect(message).toHaveAttribute('aria-invalid', 'false');
  await expect(page.getByTestId('error-text')).toHaveCount(0);
  // The preview is the message as a real lead of the audience reads it.
  await expect(page.getByTestId('live-preview')).toContainText('Hi Cora!');

  // Going on with a field missing says so at the field, and stays.
  const name = page.getByLabel('Name', { exact: true });
  await expect(name).toHaveAttribute('aria-invalid', 'false');
  await page.getByRole('button', { name: 'Next: audience' }).click();
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('error-name')).toContainText('give it a name');
  await expect(page.locator('.steps [aria-current="step"]')).toHaveText('Message');
  await name.fill('Composer news');

  // Quick replies or a button: one choice, each with its own fields.
  await expect(page.getByLabel('Button title')).toHaveCount(0);
  await page.getByLabel('A button').check();
  await page.getByLabel('Button title').fill('Shop');
  await page.getByLabel('Button link (https://…)').fill('http://shop.example');
  await expect(page.getByTestId('error-button-url')).toContainText('https://');
  await page.getByLabel('Button link (https://…)').fill('https://shop.example');
  await expect(page.getByTestId('error-button-url')).toHaveCount(0);
  await page.getByLabel('Quick replies', { exact: true }).check();
  await expect(page.getByLabel('Button title')).toHaveCount(0);
  await page.getByLabel('Quick replies (separated by commas)').fill('Yes, a reply far longer than twenty');
  await expect(page.getByTestId('error-quick')).toContainText('each 1 to 20 characters');
  await page.getByLabel('Quick replies (separated by commas)').fill('Yes, Later');
  await expect(page.getByTestId('error-quick')).toHaveCount(0);
  await page.getByRole('button', { name: 'Next: audience' }).click();

  // The window margin and the rate wait under Advanced.
  await expect(page.locator('.steps [aria-current="step"]')).toHaveText('Audience');
  await expect(page.getByLabel('Messages per second')).toBeHidden();
  await page.getByText('Advanced', { exact: true }).click();
  await page.getByLabel('Messages per second').fill('301');
  await expect(page.getByTestId('error-rate')).toContainText('1 to 300');
  await page.getByRole('button', { name: 'Next: review' }).click();
  await expect(page.locator('.steps [aria-current="step"]')).toHaveText('Audience');
  // Folded away, a wrong setting is still named beside the button.
  await page.getByText('Advanced', { exact: true }).click();
  await expect(page.getByTestId('advanced-error')).toContainText('under Advanced');
  await page.getByText('Advanced', { exact: true }).click();
  await page.getByLabel('Messages per second').fill('5');
  await expect(page.getByTestId('advanced-error')).toHaveCount(0);
  await page.getByRole('button', { name: 'Next: review' }).click();

  await expect(page.locator('.steps [aria-current="step"]')).toHaveText('Review & save');
  await expect(page.getByTestId('review')).toContainText('Composer news');
  await expect(page.getByTestId('audience-count')).toContainText('Reachable now: 1');
  await expect(page.getByTestId('review-preview')).toContainText('Hi Cora!');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f]+$/);
  await expect(page.getByTestId('message-as-seen')).toContainText('Hi Cora!');
});
