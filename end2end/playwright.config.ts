import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The real server binary, on a fresh data folder and its embedded RocksDB.
const repoRoot = path.resolve(__dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repoRoot, 'target');
const serverBin = process.env.SERVER_BIN || path.join(targetDir, 'debug', 'server');
// The Graph API stand-in's own binary (the `standin/` crate), next to the server's.
const standinBin = process.env.STANDIN_BIN || path.join(path.dirname(serverBin), 'standin');
// Created once by the runner; workers inherit it, and tests read mail from it.
if (!process.env.E2E_DATA_DIR) {
  const created = fs.mkdtempSync(path.join(os.tmpdir(), 'chatfbtop-e2e-'));
  process.env.E2E_DATA_DIR = created;
  // Best effort: a folder left in /tmp is not a test failure.
  process.on('exit', () => {
    try {
      fs.rmSync(created, { recursive: true, force: true, maxRetries: 5 });
    } catch (e) {
      console.warn(`could not remove ${created}: ${e}`);
    }
  });
}
const dataDir = process.env.E2E_DATA_DIR;
const port = Number(process.env.E2E_PORT || 18443);
const httpPort = Number(process.env.E2E_HTTP_PORT || 18080);

const standinPort = Number(process.env.E2E_STANDIN_PORT || 18600);

export const baseURL = `https://localhost:${port}`;
/** The Graph API stand-in the app is pointed at, and its control endpoints. */
export const standinURL = `http://127.0.0.1:${standinPort}`;
process.env.E2E_STANDIN_URL = standinURL;
// The stand-in's control endpoints want this token (it prints a random one when none is given).
process.env.E2E_STANDIN_TOKEN = process.env.E2E_STANDIN_TOKEN || `e2e-${Date.now()}-${Math.random().toString(36).slice(2)}`;

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    ignoreHTTPSErrors: true, // the server's self-signed certificate
    trace: 'off',
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'chromium', use: { browserName: 'chromium' }, testIgnore: /policy-update|admin\.spec|messenger\.spec|broadcasts\.spec|tour\.spec|phone\.spec|accessibility\.spec/ },
    // Publishing a policy gates every user, so it runs after everything else;
    // it also sets up the admin that the admin tests use.
    { name: 'policy-update', use: { browserName: 'chromium' }, testMatch: /policy-update/, dependencies: ['chromium'] },
    { name: 'admin', use: { browserName: 'chromium' }, testMatch: /admin\.spec/, dependencies: ['policy-update'] },
    // Needs the Facebook app settings the admin test saves (pointing at the stand-in).
    { name: 'messenger', use: { browserName: 'chromium' }, testMatch: /(messenger|broadcasts|tour|phone|accessibility)\.spec/, dependencies: ['admin'] },
  ],
  webServer: [{
    // An admin first (its one-time password into the data folder), then the
    // server itself, on the embedded RocksDB database of a fresh folder.
    command: [
      `${JSON.stringify(serverBin)} admin create --email admin@e2e.test --data-dir ${JSON.stringify(dataDir)}`,
      `> ${JSON.stringify(path.join(dataDir, 'admin.txt'))} &&`,
      'exec',
      JSON.stringify(serverBin),
      `--data-dir ${JSON.stringify(dataDir)}`,
      `--site-dir ${JSON.stringify(path.join(repoRoot, 'dist'))}`,
      `--port ${port}`,
      `--http-port ${httpPort}`,
      // Every test signs up from this one address.
      '--requests-per-ip-per-hour 100000',
    ].join(' '),
    url: `${baseURL}/healthz`,
    ignoreHTTPSErrors: true,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { RUST_LOG: 'warn' },
  }, {
    // The Graph API stand-in: Facebook for the app, and leads for the tests.
    command: [
      JSON.stringify(standinBin),
      `--listen 127.0.0.1:${standinPort}`,
      `--webhook-url ${baseURL}/webhooks/messenger`,
    ].join(' '),
    url: `${standinURL}/_standin/sent`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { RUST_LOG: 'warn', CHATFBTOP_STANDIN_APP_SECRET: 'e2e-app-secret', CHATFBTOP_STANDIN_CONTROL_TOKEN: process.env.E2E_STANDIN_TOKEN },
  }],
});
