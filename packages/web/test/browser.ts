/** Debian's `chromium` driven by playwright-core (Playwright's own browser download is not used). */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const screenshotDirectory = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test-results',
  'screenshots',
);

/** The Chromium to drive: `Q_CHROMIUM`, or `chromium` (Debian) or `chromium-browser` on PATH. */
export function findChromium(): string | undefined {
  const override = process.env.Q_CHROMIUM;
  if (override) return override;
  for (const name of ['chromium', 'chromium-browser']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  return undefined;
}

export function chromiumBinary(): string {
  const found = findChromium();
  if (found) return found;
  throw new Error(
    "The browser tests drive Debian's chromium, which was not found on PATH: install it with `sudo apt-get install chromium` " +
      '(or set Q_CHROMIUM to a Chromium binary).',
  );
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumBinary(), headless: true, args: ['--no-sandbox'] });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests seen so far. */
  problems: string[];
  /** Dialogs the page opened (alert, confirm); confirms are accepted. */
  dialogs: string[];
}

export async function openPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`));
  page.on('requestfailed', (request) => {
    if (request.failure()?.errorText !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    }
  });
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void (dialog.type() === 'confirm' ? dialog.accept() : dialog.dismiss());
  });
  return { page, problems, dialogs };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDirectory, { recursive: true });
  await page.screenshot({ path: join(screenshotDirectory, `${name}.png`), fullPage: true });
}
