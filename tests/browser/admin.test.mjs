// SPDX-License-Identifier: MIT
//
// admin.test.mjs - browser tests of the curators' view (server/web/admin.js) in chromium
// against the real kb-server that run.sh starts, with a keys file holding an admin key
// (KB_TEST_ADMIN_KEY) and a search key (KB_TEST_SEARCH_KEY): #admin asks for the key,
// shows the two lists from GET /api/v1/analytics/queries, keeps the key out of the
// address, forgets it on request, refuses a key without scope admin, and speaks the
// page's language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.KB_TEST_URL;
const ADMIN = process.env.KB_TEST_ADMIN_KEY;
const SEARCH = process.env.KB_TEST_SEARCH_KEY;
const ART = process.env.KB_ARTIFACTS || path.join(here, 'artifacts');
const T = 10000;

let browser;

before(async () => {
  assert.ok(BASE && ADMIN && SEARCH, 'KB_TEST_URL and the test keys must be set (run.sh)');
  fs.mkdirSync(ART, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.KB_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  // something to count: two searches of one query, one that finds nothing
  for (const q of ['Fuel  Cell', 'fuel cell', 'zorglubian widget'])
    await fetch(BASE + '/api/v1/search?q=' + encodeURIComponent(q));
});

after(async () => {
  if (browser) await browser.close();
});

async function open(t, locale = 'en-GB') {
  const ctx = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  t.after(async () => {
    await ctx.close();
    assert.deepEqual(errors, [], 'no JavaScript errors on the page');
  });
  return { page, urls };
}

async function enterKey(page, key) {
  await page.waitForSelector('#admin-key-form:not([hidden])');
  await page.fill('#admin-key', key);
  await page.press('#admin-key', 'Enter');
}

test('#admin asks for the key, then lists the searched and the unfound queries', async (t) => {
  const { page, urls } = await open(t);
  await page.goto(BASE + '/#admin');
  assert.equal(await page.isVisible('#results-view'), false, 'the results are hidden');
  await enterKey(page, ADMIN);
  await page.waitForSelector('#admin-lists:not([hidden]) #admin-top li a');
  const top = await page.locator('#admin-top li').allTextContents();
  assert.ok(top.some((s) => s.startsWith('fuel cell') && s.includes('2×')), top.join(' | '));
  const zero = await page.locator('#admin-zero li').allTextContents();
  assert.ok(zero.some((s) => s.startsWith('zorglubian widget')), zero.join(' | '));
  assert.match(await page.textContent('#admin-status'), /^Since \d{4}-\d\d-\d\d\.$/);
  await page.screenshot({ path: path.join(ART, 'admin-desktop.png') });
  // the key travels in a header only, never in an address
  assert.ok(urls.every((u) => !u.includes(ADMIN)), 'the key is in no URL');
  assert.ok(!page.url().includes(ADMIN));
  // kept for this tab: a reload shows the lists without asking again
  await page.reload();
  await page.waitForSelector('#admin-lists:not([hidden]) #admin-top li a');
  // another period is another request
  await page.selectOption('#admin-days', '7');
  await page.waitForSelector('#admin-lists:not([hidden]) #admin-top li a');
  assert.ok(urls.some((u) => u.includes('/api/v1/analytics/queries?limit=50&days=7')));
  // forgetting the key asks for it again, also after a reload
  await page.click('#admin-forget');
  await page.waitForSelector('#admin-key-form:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('kb-admin-key')), null);
  await page.reload();
  await page.waitForSelector('#admin-key-form:not([hidden])');
  // leaving #admin brings the search page back
  await page.goto(BASE + '/');
  await page.waitForSelector('#results-view:not([hidden])');
  assert.equal(await page.isVisible('#admin-view'), false);
});

test('a key without scope admin is refused and not kept', async (t) => {
  const { page } = await open(t);
  await page.goto(BASE + '/#admin');
  await enterKey(page, SEARCH);
  await page.waitForFunction(() => /scope admin/.test(document.getElementById('admin-status').textContent));
  assert.equal(await page.isVisible('#admin-lists'), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('kb-admin-key')), null);
});

test('the view speaks French and Italian', async (t) => {
  const { page } = await open(t, 'fr-FR');
  await page.goto(BASE + '/#admin');
  await page.waitForSelector('#admin-key-form:not([hidden])');
  assert.equal(await page.textContent('#admin-heading'), 'Statistiques des recherches');
  await page.selectOption('#ui-lang', 'it');
  assert.equal(await page.textContent('#admin-heading'), 'Statistiche delle ricerche');
  assert.equal(await page.textContent('label[for="admin-key"]'), 'Chiave API di amministrazione');
});
