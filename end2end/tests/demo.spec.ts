import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from '@playwright/test';
import { STRONG_PASSWORD, linkIn } from './support';

// A second server, in demo mode, on its own ports and data folder.
const port = Number(process.env.E2E_DEMO_PORT || 18543);
const base = `https://localhost:${port}`;
let server: ChildProcess;
let dataDir: string;

test.beforeAll(async ({ request }) => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatfbtop-demo-'));
  const bin = process.env.SERVER_BIN || path.join(process.env.CARGO_TARGET_DIR || '', 'debug', 'server');
  server = spawn(bin, ['--demo', '--data-dir', dataDir, '--port', String(port), '--no-http-redirect',
    '--site-dir', path.resolve(__dirname, '..', '..', 'dist')], { stdio: 'ignore', env: { ...process.env, RUST_LOG: 'warn' } });
  await expect(async () => {
    expect((await request.get(`${base}/healthz`)).ok()).toBeTruthy();
  }).toPass({ timeout: 60_000 });
});

// The folder goes only after the server has exited: until then RocksDB may still write into it.
test.afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function demoMail(to: string): Promise<string> {
  const dir = path.join(dataDir, 'mail');
  for (let i = 0; i < 100; i++) {
    for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      if (text.includes(`To: ${to}`) && text.includes('verify your email')) return text;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to}`);
}

test('demo mode: clearly marked, a demo Page connects offline and simulated leads write', async ({ page }) => {
  await page.goto(`${base}/`);
  await expect(page.getByTestId('demo-banner')).toContainText('Demo mode');
  const email = `demo.${Date.now()}@example.org`;
  await page.goto(`${base}/register`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByLabel('I accept the terms of use and the privacy policy.').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('register-done')).toBeVisible();
  await page.goto(`${base}${linkIn(await demoMail(email))}`);
  await expect(page.getByTestId('verified')).toBeVisible();
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toBeVisible();

  await page.goto(`${base}/pages`);
  await page.getByTestId('facebook-login').click();
  await expect(page.getByText('This is the local Graph API stand-in, not Facebook.')).toBeVisible();
  await page.locator('#continue').click();
  await page.getByLabel('Demo Page 1').check();
  await page.getByRole('button', { name: 'Connect the chosen Pages' }).click();
  await expect(page.getByTestId('pages')).toContainText('Demo Page 1');
  await expect(page.getByTestId('demo-banner')).toBeVisible();

  await page.goto(`${base}/leads`);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('lead-row')).toHaveCount(3, { timeout: 1000 });
    await expect(page.getByTestId('leads')).toContainText('Amélie Laurent', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await page.getByRole('link', { name: 'Amélie Laurent' }).click();
  await expect(page.getByTestId('conversation')).toContainText('Do you ship to Lyon?');
  await page.getByLabel('Your reply').fill('Yes, in two days.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('reply-outcome')).toContainText('Sent.');
});
