import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The dashboard's page: one HTML document, its style and script inline, and its policy. */
export interface DashboardPage {
  readonly html: string;
  /**
   * The Content-Security-Policy it is served with: nothing loads from anywhere, scripts and
   * styles run only if they are exactly the page's own (by hash), requests go only to the
   * app itself, and no other site may frame it.
   */
  readonly contentSecurityPolicy: string;
}

/**
 * Builds the page from the files shipped beside this module (assets/, copied by the build
 * like the Lua scripts): plain CSS and browser JavaScript, no build step and nothing fetched
 * from a CDN. The page knows nothing of the mount: its script finds the API from its own
 * address, so the same page serves any path, global prefix or proxy path.
 */
export function buildDashboardPage(): DashboardPage {
  const asset = (name: string) =>
    // Line endings fixed: the hash in the policy is of the exact bytes between the tags.
    readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8').replace(/\r\n/g, '\n');
  const style = `\n${asset('dashboard.css')}`;
  const script = `\n${asset('dashboard.js')}`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Queues · nestjs-delayed</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<header class="top">
  <a class="brand" href="#">nestjs-delayed</a>
  <span id="mode" class="badge"></span>
  <span class="spacer"></span>
  <span id="status" class="status" aria-live="polite"></span>
</header>
<div id="notice" class="notice" role="status" hidden></div>
<main id="app"><p class="muted">Loading…</p></main>
<noscript><p class="error">This page needs JavaScript.</p></noscript>
<script>${script}</script>
</body>
</html>
`;
  const digest = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${digest(script)}`,
    `style-src ${digest(style)}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

/** The page, built once when the dashboard is first imported. */
export const dashboardPage: DashboardPage = buildDashboardPage();
