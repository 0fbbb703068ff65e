// SPDX-License-Identifier: MIT
//
// page-reading.test.mjs - the search page as a member reads it (issue #15): French briefs
// first in the French interface, matches highlighted in titles, snippets that keep a
// heading apart from its text, one "did you mean" and no empty Refine box on a page
// without results, a home page led by dated briefs, no file time shown as a date, and a
// document view with Markdown headings, lists and tables (rendered safely), PDF pages in
// paragraphs and a compact metadata card. Same set-up as page.test.mjs (run.sh starts
// kb-server over corpus/ and passes KB_TEST_URL); each check is one small test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.KB_TEST_URL;
const ART = process.env.KB_ARTIFACTS || path.join(here, 'artifacts');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const T = 10000;

let browser;

before(async () => {
  assert.ok(BASE, 'KB_TEST_URL must point at a running kb-server');
  fs.mkdirSync(ART, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.KB_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run'],
  });
});

after(async () => {
  if (browser) await browser.close();
});

async function open(t, opts = {}) {
  const ctx = await browser.newContext({
    viewport: opts.viewport || DESKTOP,
    locale: opts.locale || 'en-GB',
    isMobile: opts.viewport === PHONE,
    hasTouch: opts.viewport === PHONE,
    deviceScaleFactor: 1,
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  t.after(async () => {
    await ctx.close();
    assert.deepEqual(errors, [], 'no JavaScript errors on the page');
  });
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(ART, name + '.png'), fullPage: false });

async function results(page, url) {
  await page.goto(BASE + url);
  await page.waitForSelector('#hits > li.hit, #message:not([hidden])');
  await page.waitForFunction(() => !document.querySelector('#results-view[aria-busy]'));
}

async function docView(page, url) {
  await page.goto(BASE + url);
  await page.waitForSelector('#doc-content:not([hidden]), #doc-message.error:not([hidden])');
  assert.equal(await page.locator('#doc-message.error:not([hidden])').count(), 0, 'document loads');
  await page.waitForSelector('#similar-list li'); // the extras (and the original) are in
}

test('a French query in the French interface starts with French briefs', async (t) => {
  const page = await open(t, { locale: 'fr-FR' });
  await results(page, '/?ui=fr&q=' + encodeURIComponent('hydrogène'));
  const badges = await page.locator('#hits .badge').allTextContents();
  assert.deepEqual(badges.slice(0, 2), ['FR', 'FR'], `first badges: ${badges}`);
  assert.ok(badges.includes('EN'), 'other languages are still there (a boost, not a filter)');
  await shot(page, 'reading-fr-hydrogene');
});

test('matches are highlighted in titles, safely', async (t) => {
  const page = await open(t);
  await results(page, '/?q=hydrogen');
  const marked = await page.locator('.hit-link mark').allTextContents();
  assert.ok(marked.some((m) => /hydrogen/i.test(m)), `title marks: ${marked}`);
  assert.equal(await page.locator('.hit-link *:not(mark)').count(), 0, 'only <mark> inside titles');
});

test('a snippet keeps a heading apart from the next paragraph', async (t) => {
  const page = await open(t);
  await results(page, '/?lang=en&q=' + encodeURIComponent('hydrogen ICE'));
  const hit = page.locator('#hits > li.hit', { has: page.locator('a[data-id="en/hydrogen-internal-combustion-engines.md"]') });
  const snippet = await hit.locator('.snippet').textContent();
  assert.doesNotMatch(snippet, /vehicles Why/, snippet);
  assert.match(snippet, /vehicles — Why hydrogen ICE — The/, snippet);
});

// searched as typed (correct=false): typo tolerance would show the corrected results
test('no results: one "did you mean", no empty Refine box', async (t) => {
  const page = await open(t, { locale: 'fr-FR' });
  await results(page, '/?ui=fr&q=hydrogennne&correct=false');
  await page.waitForSelector('#message:not([hidden])');
  const text = await page.locator('#main').innerText();
  assert.equal(text.split('Vouliez-vous dire').length - 1, 1, 'said once: ' + text);
  assert.equal(await page.locator('#facets').isVisible(), false, 'no Refine box');
  await shot(page, 'reading-no-results');
  const phone = await open(t, { viewport: PHONE });
  await results(phone, '/?ui=it&q=hydrogennne&correct=false');
  await phone.waitForSelector('#message:not([hidden])');
  assert.equal(await phone.locator('#filters-toggle').isVisible(), false, 'no Filters button');
});

test('the home page leads with the newest dated brief, not a copied text file', async (t) => {
  const page = await open(t);
  await results(page, '/');
  assert.equal(await page.locator('.hit-link').first().getAttribute('data-id'),
    'fr/cooperation-commande-predictive-energie.xml');
  const dates = await page.locator('#hits time').evaluateAll((ns) => ns.map((n) => n.getAttribute('datetime')));
  assert.equal(dates.length, 10, 'every brief on the home page has a publication date');
  assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');
});

test('a file time is never shown as a publication date', async (t) => {
  const page = await open(t);
  await page.route('**/api/v1/search?*', async (r) => {
    const res = await r.fetch();
    const body = await res.json();
    body.hits[0].date_source = 'file';
    return r.fulfill({ response: res, json: body });
  });
  await results(page, '/?q=hydrogen');
  assert.equal(await page.locator('#hits > li.hit').first().locator('time').count(), 0);
  assert.equal(await page.locator('#hits > li.hit').nth(1).locator('time').count(), 1);
});

test('a Markdown brief shows its headings, lists and tables', async (t) => {
  const page = await open(t);
  await docView(page, '/?q=hydrogen&doc=' + encodeURIComponent('fr/piles-a-combustible-pemfc-etat-de-l-art.md'));
  await page.waitForSelector('#doc-body h3');
  const heads = await page.locator('#doc-body h3').allTextContents();
  assert.ok(heads.includes('Pourquoi la PEMFC domine dans l\'automobile'), `headings: ${heads}`);
  assert.ok(await page.locator('#doc-body ul li').count() >= 3, 'a list');
  assert.equal(await page.locator('#doc-body p').first().textContent().then((s) => s.includes('Piles à combustible PEMFC : état')), false,
    'the title is not repeated as the first paragraph');
  await docView(page, '/?doc=' + encodeURIComponent('fr/batteries-lfp-nmc-comparaison.md'));
  await page.waitForSelector('#doc-body table');
  assert.ok(await page.locator('#doc-body table th').count() >= 2, 'a table with a header row');
  await shot(page, 'reading-markdown');
});

test('Markdown is rendered as text: raw HTML in a brief stays inert', async (t) => {
  const page = await open(t);
  await page.route('**/files/**', (r) => r.fulfill({
    status: 200, contentType: 'text/markdown; charset=utf-8',
    body: '# T\n\n## A <img src=x onerror="window.pwned=1"> heading\n\n- <script>window.pwned=2</script> item\n\n[link](javascript:alert(1)) and **bold**\n',
  }));
  await docView(page, '/?doc=' + encodeURIComponent('fr/piles-a-combustible-pemfc-etat-de-l-art.md'));
  await page.waitForSelector('#doc-body h3');
  assert.equal(await page.locator('#doc-body img, #doc-body script, #doc-body a').count(), 0);
  assert.match(await page.locator('#doc-body h3').first().textContent(), /<img src=x/);
  assert.equal(await page.locator('#doc-body strong').textContent(), 'bold');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
});

test('PDF pages read as paragraphs', async (t) => {
  const page = await open(t);
  await docView(page, '/?doc=' + encodeURIComponent('fr/hydrogene-mobilite-lourde-pile-ou-moteur.pdf'));
  assert.ok(await page.locator('#page-1 p').count() >= 3, 'several paragraphs on page 1');
  assert.ok(await page.locator('#page-1 h3').count() >= 1, 'a heading line');
  await shot(page, 'reading-pdf');
});

test('the metadata card has no empty band', async (t) => {
  for (const viewport of [DESKTOP, PHONE]) {
    const page = await open(t, { viewport });
    await docView(page, '/?doc=' + encodeURIComponent('fr/piles-a-combustible-pemfc-etat-de-l-art.md'));
    const tops = await page.locator('#doc-meta .chips li').evaluateAll((ns) => [...new Set(ns.map((n) => n.offsetTop))]);
    assert.ok(tops.length <= 2, `topic chips in a row, not a column: ${tops.length} rows`);
    await shot(page, viewport === PHONE ? 'reading-phone-meta' : 'reading-desktop-meta');
  }
});
