import { expect, test, type Page } from '@playwright/test';
import { accountWithPage, standin } from './support';

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

/** The page is no wider than the screen: nothing scrolls sideways. */
async function fitsTheScreen(page: Page, what: string) {
  await page.waitForLoadState('networkidle');
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  expect(widths.page, `${what} scrolls sideways on a ${widths.screen}-pixel screen`).toBeLessThanOrEqual(widths.screen);
}

/** Opens the folded navigation and follows one of its links. */
async function navigate(page: Page, link: string) {
  const menu = page.getByRole('button', { name: 'Menu' });
  await expect(page.locator('#site-nav')).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await page.locator('#site-nav').getByRole('link', { name: link, exact: true }).click();
  // Moving on folds the menu again.
  await expect(page.locator('#site-nav')).toBeHidden();
}

test('on a 390-pixel phone every main screen fits without sideways scrolling, and the navigation folds behind a menu button', async ({ page, request }) => {
  for (const path of ['/', '/register', '/login', '/privacy', '/terms']) {
    await page.goto(path);
    await expect(page.locator('main')).toBeVisible();
    await fitsTheScreen(page, path);
  }

  const { n, pageId } = await accountWithPage(page, request, 'phone', 'Phone Shop', '9');
  await fitsTheScreen(page, '/pages');
  await standin(request, '/_standin/simulate', { page_id: pageId, psid: `phone-${n}`, first_name: 'Pia', last_name: 'Phone', text: 'a question from a rather long first message that must wrap on a small screen' });

  await navigate(page, 'Leads');
  await expect(page).toHaveURL(/\/leads$/);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('lead-row')).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await fitsTheScreen(page, '/leads');

  // Reply from the phone.
  await page.getByRole('link', { name: 'Pia Phone' }).click();
  await fitsTheScreen(page, 'the conversation');
  await page.getByLabel('Your reply').fill('Thanks, we will answer soon.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('reply-outcome')).toContainText('Sent.');

  // Compose and send a campaign.
  await navigate(page, 'Campaigns');
  await page.getByLabel('Name', { exact: true }).fill('Phone news');
  await page.getByLabel('Message', { exact: true }).fill('Hi {{first_name}}!');
  await fitsTheScreen(page, '/campaigns');
  await page.getByRole('button', { name: 'Next: audience' }).click();
  await page.getByText('Advanced', { exact: true }).click();
  await fitsTheScreen(page, 'the audience step');
  await page.getByRole('button', { name: 'Next: review' }).click();
  await fitsTheScreen(page, 'the review step');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page).toHaveURL(/\/campaigns\/[0-9a-f]+$/);
  await page.getByRole('button', { name: 'Send now…' }).click();
  await page.getByRole('button', { name: 'Yes, send to 1 lead' }).click();
  await expect(page.getByTestId('progress-text')).toContainText('100%', { timeout: 30_000 });
  await fitsTheScreen(page, 'the campaign report');

  for (const [link, path] of [['Your data', '/account/privacy'], ['Security', '/account/security'], ['Account', '/account']]) {
    await navigate(page, link);
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await fitsTheScreen(page, path);
  }
});
