import 'reflect-metadata';
import { existsSync } from 'node:fs';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { DynamicModule } from '@nestjs/common';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** A real Nest HTTP app (Express) listening on a free loopback port. */
export interface RunningApp {
  readonly app: INestApplication;
  /** Its base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  close(): Promise<void>;
}

export async function startApp(module: Type | DynamicModule): Promise<RunningApp> {
  // Chromium opens spare connections that send nothing: without this, close() waits for
  // Node's headers timeout (about two minutes) to drop them.
  // abortOnError off: a failing bootstrap rejects here instead of ending the process.
  const app = await NestFactory.create(module, {
    logger: false,
    forceCloseConnections: true,
    abortOnError: false,
  });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, close: () => app.close() };
}

/** Sends a POST the way the dashboard's page does: a JSON body. */
export function postJson(url: string, body: unknown = {}, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`Not JSON (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }
}

/** Where the tests find Chromium: CHROMIUM_PATH, else Debian's package. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A headless Chromium. Fails (never skips) when it is missing: the dashboard's tests are
 * part of the suite, and `.ci/run` installs it.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium, as .ci/run does) or point CHROMIUM_PATH at one`,
    );
  }
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--headless=new'],
    headless: true,
  });
}

/** A page whose script errors, console errors and failed requests are collected. */
export async function watchedPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`),
  );
  // Confirmations (remove, requeue all, cancel) are accepted, as a user would.
  page.on('dialog', (dialog) => void dialog.accept());
  return { page, problems };
}
