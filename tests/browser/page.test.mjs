// SPDX-License-Identifier: MIT
//
// page.test.mjs - browser tests of the members' search page (server/web) in Debian's
// chromium driven by playwright-core, against a real kb-server over a real index of
// corpus/ (run.sh starts it and passes its address in KB_TEST_URL). Each test opens a
// fresh browser context; screenshots of the main states at desktop and phone sizes go
// to $KB_ARTIFACTS (tests/browser/artifacts/, git-ignored) for a human to look at; the
// last two tests take the README's pictures (`make screenshots` copies them to docs/).
// Only the UI behaviour that the API cannot provide yet (suggestions, failures) is
// exercised with intercepted responses; everything else talks to the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.KB_TEST_URL;
const SRC = process.env.KB_SOURCE_DIR || path.resolve(here, '../..');
const ART = process.env.KB_ARTIFACTS || path.join(here, 'artifacts');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const T = 10000; // ms for any single wait

let browser;

before(async () => {
  assert.ok(BASE, 'KB_TEST_URL must point at a running kb-server');
  fs.mkdirSync(ART, { recursive: true });
  // playwright gives every launch a fresh temporary --user-data-dir of its own.
  browser = await chromium.launch({
    executablePath: process.env.KB_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
});

// A fresh context (cookies, storage) and page. Page errors and CSP violations fail the test.
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
  // the server's Content-Security-Policy must not block anything the page does
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  t.after(async () => {
    await ctx.close();
    assert.deepEqual(errors, [], 'no JavaScript errors on the page');
  });
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(ART, name + '.png'), fullPage: false });
const hitCount = (page) => page.locator('#hits > li.hit').count();
const statusText = (page) => page.locator('#status').textContent();
const countOf = (s) => Number((/([\d\s.,\u202f]+)\s+(results?|résultats?|risultat[oi])/.exec(s) || [])[1]?.replace(/\D/g, '') || NaN);

async function search(page, q) {
  await page.fill('#q', q);
  await page.press('#q', 'Enter');
  await page.waitForURL((u) => new URL(u).searchParams.get('q') === q);
  await page.waitForFunction(() => !document.querySelector('#results-view[aria-busy]'));
}

// The document view, or a clear failure as soon as the page shows its error message.
async function waitDoc(page) {
  await page.waitForSelector('#doc-content:not([hidden]), #doc-message.error:not([hidden])');
  const err = page.locator('#doc-message.error:not([hidden])');
  if (await err.count()) assert.fail('document view failed: ' + (await err.textContent()));
}

async function waitResults(page) {
  await page.waitForSelector('#hits > li.hit');
  await page.waitForFunction(() => !document.querySelector('#results-view[aria-busy]'));
}

test('topics.json matches the thesaurus topics', () => {
  const thes = JSON.parse(fs.readFileSync(path.join(SRC, 'schemas/thesaurus.json'), 'utf8'));
  const web = JSON.parse(fs.readFileSync(path.join(SRC, 'server/web/topics.json'), 'utf8'));
  const want = Object.fromEntries(thes.topics.map((x) => [x.id, x.labels]));
  assert.deepEqual(web, want, 'regenerate server/web/topics.json from schemas/thesaurus.json');
});

test('home lists the latest briefs with facets', async (t) => {
  const page = await open(t);
  await page.goto(BASE + '/');
  await waitResults(page);
  assert.equal(await page.locator('#results-heading').textContent(), 'Latest briefs');
  assert.equal(await hitCount(page), 10);
  for (const f of ['topic', 'lang', 'year', 'org', 'type'])
    assert.ok(await page.locator(`.facet[data-facet="${f}"] .facet-value`).count() > 0, `facet ${f}`);
  assert.ok(countOf(await statusText(page)) > 40, 'the whole corpus is counted');
  // pagination: page 2 is another set of documents, back returns to page 1
  const first = await page.locator('.hit-link').first().textContent();
  await page.locator('#pager a.next').click();
  await page.waitForURL(/page=2/);
  await waitResults(page);
  assert.notEqual(await page.locator('.hit-link').first().textContent(), first);
  assert.equal(await page.locator('#pager a[aria-current="page"]').textContent(), '2');
  await page.goBack();
  await page.waitForFunction((f) => document.querySelector('.hit-link')?.textContent === f, first);
  await shot(page, 'desktop-home');
});

test('typing a query shows highlighted results with metadata', async (t) => {
  const page = await open(t);
  await page.goto(BASE + '/');
  await search(page, 'hydrogen');
  await waitResults(page);
  assert.match(await page.locator('#results-heading').textContent(), /hydrogen/);
  const status = await statusText(page);
  assert.ok(countOf(status) >= 3, `count in "${status}"`);
  assert.match(status, /in \d+ ms/);
  const hit = page.locator('#hits > li.hit').first();
  assert.ok((await hit.locator('.hit-link').textContent()).length > 5, 'title');
  assert.ok(await hit.locator('.snippet mark').count() > 0, 'snippet highlights a term');
  assert.ok(await hit.locator('.badge').count() === 1, 'language badge');
  assert.match(await hit.locator('time').getAttribute('datetime'), /^\d{4}-\d{2}-\d{2}/);
  assert.ok(await hit.locator('.chips a, .chips span').count() > 0, 'topics');
  // the snippet is sanitised: no element other than <mark> inside
  assert.equal(await page.locator('.snippet *:not(mark)').count(), 0);
  // the Atom feed link carries the query
  assert.match(await page.locator('#feed-link').getAttribute('href'), /^\/feed\.atom\?q=hydrogen/);
  await shot(page, 'desktop-results');
});

test('a facet filters on click, changes counts and can be cleared', async (t) => {
  const page = await open(t);
  await page.goto(BASE + '/?q=hydrogen');
  await waitResults(page);
  const before = countOf(await statusText(page));
  const fr = page.locator('.facet[data-facet="lang"] .facet-value[data-value="fr"]');
  const frCount = Number(await fr.locator('.count').textContent());
  const langValues = await page.locator('.facet[data-facet="lang"] .facet-value').count();
  assert.ok(langValues >= 2, 'several languages before filtering');
  assert.ok(frCount > 0 && frCount < before, `fr count ${frCount} of ${before}`);
  await fr.click();
  await page.waitForURL(/lang=fr/);
  await page.waitForFunction((n) => /\d/.test(document.querySelector('#status').textContent) &&
    !document.querySelector('#results-view[aria-busy]') &&
    document.querySelectorAll('.facet[data-facet="lang"] .facet-value').length === n, 1);
  assert.equal(countOf(await statusText(page)), frCount, 'result count is the facet count');
  const badges = await page.locator('#hits .badge').allTextContents();
  assert.ok(badges.length > 0 && badges.every((b) => b === 'FR'), `all French: ${badges}`);
  assert.equal(await page.locator('.facet[data-facet="lang"] .facet-value.on').count(), 1);
  assert.equal(await page.locator('#active-filters .chip').count(), 1);
  // a second facet narrows further (topic), then "clear all" restores everything
  const topic = page.locator('.facet[data-facet="topic"] .facet-value').first();
  const topicCount = Number(await topic.locator('.count').textContent());
  await topic.click();
  await page.waitForURL(/topic=/);
  await page.waitForFunction((n) => document.querySelectorAll('#active-filters .chip').length === n, 2);
  await waitResults(page);
  assert.equal(countOf(await statusText(page)), topicCount);
  await shot(page, 'desktop-facets');
  await page.locator('#clear-all').click();
  await page.waitForURL((u) => !/lang=|topic=/.test(u));
  await page.waitForFunction(() => document.querySelector('#active-filters').hidden);
  await waitResults(page);
  assert.equal(countOf(await statusText(page)), before);
  // back brings the filters back (the state is in the URL)
  await page.goBack();
  await page.waitForURL(/lang=fr/);
  await page.waitForFunction(() => document.querySelectorAll('#active-filters .chip').length === 2);
});

test('sorting by date orders the hits', async (t) => {
  const page = await open(t);
  await page.goto(BASE + '/?q=battery');
  await waitResults(page);
  await page.selectOption('#sort', 'newest');
  await page.waitForURL(/sort=newest/);
  await waitResults(page);
  const dates = await page.locator('#hits time').evaluateAll((ns) => ns.map((n) => n.getAttribute('datetime')));
  assert.ok(dates.length > 1);
  assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');
});

test('a document opens with highlighted text, metadata and similar documents', async (t) => {
  const page = await open(t);
  await page.goto(BASE + '/?q=hydrogen');
  await waitResults(page);
  const link = page.locator('.hit-link').first();
  const title = await link.textContent();
  await link.click();
  await page.waitForURL(/doc=/);
  await waitDoc(page);
  assert.equal(await page.locator('#doc-title').textContent(), title);
  assert.ok(await page.locator('#doc-body mark').count() > 0, 'query terms highlighted');
  assert.ok(await page.locator('#doc-meta dt').count() >= 3, 'metadata');
  const orig = await page.locator('#doc-original').getAttribute('href');
  assert.match(orig, /^\/(files|api\/v1\/documents)\//);
  await page.waitForSelector('#similar-list li');
  await shot(page, 'desktop-document');
  // back to the results, with the focus on the result just read
  await page.locator('#back-link').click();
  await page.waitForURL((u) => !/doc=/.test(u));
  await waitResults(page);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), title);
});

test('a PDF match opens on its page', async (t) => {
  const page = await open(t);
  // a query whose best hits include PDFs (snippets of PDFs carry their page)
  await page.goto(BASE + '/?q=' + encodeURIComponent('electrification roadmap 2035'));
  await waitResults(page);
  const paged = page.locator('#hits > li.hit:has(.hit-page)').first();
  assert.ok(await paged.count() === 1, 'a PDF hit with a page number');
  const n = Number((await paged.locator('.hit-page').textContent()).replace(/\D/g, ''));
  await paged.locator('.hit-link').click();
  await waitDoc(page);
  assert.ok(await page.locator('#doc-body .page').count() > 1, 'pages shown');
  assert.equal(await page.locator('#doc-body .page.match-page').getAttribute('id'), 'page-' + n);
  assert.match(await page.locator('#doc-match-link').textContent(), new RegExp(String(n)));
  await page.locator('#doc-match-link').click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'page-' + n);
  await shot(page, 'desktop-pdf-match');
});

test('the interface language follows the browser and can be switched', async (t) => {
  const page = await open(t, { locale: 'it-IT' });
  await page.goto(BASE + '/');
  await waitResults(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'it');
  assert.equal(await page.locator('#search-form button').textContent(), 'Cerca');
  assert.equal(await page.locator('.facet[data-facet="topic"] h3').textContent(), 'Tema');
  await page.selectOption('#ui-lang', 'fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  // the page searches again in the new language (prefer_lang): the results area and its
  // facets are redrawn when that answer comes
  await page.waitForFunction(() =>
    document.querySelector('#results-heading')?.textContent === 'Dernières notes' &&
    document.querySelector('.facet[data-facet="topic"] h3')?.textContent === 'Thème' &&
    /résultats?/.test(document.querySelector('#status')?.textContent || ''));
  assert.equal(await page.locator('#search-form button').textContent(), 'Rechercher');
  assert.equal(await page.locator('#results-heading').textContent(), 'Dernières notes');
  assert.equal(await page.locator('.facet[data-facet="topic"] h3').textContent(), 'Thème');
  const topicLabels = await page.locator('.facet[data-facet="topic"] .label').allTextContents();
  assert.ok(topicLabels.includes('Hydrogène'), `French topic labels: ${topicLabels}`);
  assert.match(await statusText(page), /résultats?/);
  await shot(page, 'desktop-french');
  // remembered across a reload, and ?ui= wins for a shared link
  await page.reload();
  await waitResults(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await page.goto(BASE + '/?ui=en');
  await waitResults(page);
  assert.equal(await page.locator('#search-form button').textContent(), 'Search');
});

test('a misspelt query shows the corrected results, and "search instead" runs it as typed', async (t) => {
  const page = await open(t);
  await page.goto(BASE + '/');
  await search(page, 'hydrgen');
  const line = page.locator('#did-you-mean');
  await line.locator('a.search-instead').waitFor();
  assert.equal(await line.textContent(), 'Showing results for hydrogen; search instead for hydrgen');
  assert.equal(await line.locator('strong.corrected').textContent(), 'hydrogen');
  assert.ok(await hitCount(page) > 0, 'the hydrogen briefs are shown at once');
  await shot(page, 'desktop-typo-corrected');
  // in French and Italian too
  await page.selectOption('#ui-lang', 'fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  await waitResults(page);
  assert.equal(await line.textContent(), 'Résultats affichés pour hydrogen ; rechercher plutôt hydrgen');
  await page.selectOption('#ui-lang', 'it');
  await page.waitForFunction(() => document.documentElement.lang === 'it');
  await waitResults(page);
  assert.equal(await line.textContent(), 'Risultati mostrati per hydrogen; cerca invece hydrgen');
  await page.selectOption('#ui-lang', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await waitResults(page);
  // "search instead": the query exactly as typed finds nothing, and "did you mean" is back
  await line.locator('a.search-instead').click();
  await page.waitForURL((u) => new URL(u).searchParams.get('correct') === 'false');
  const dym = page.locator('#did-you-mean a.suggestion, #message a.suggestion').first();
  await dym.waitFor();
  assert.equal(await hitCount(page), 0);
  assert.equal(await dym.textContent(), 'hydrogen');
  assert.equal(await page.inputValue('#q'), 'hydrgen');
  await shot(page, 'desktop-did-you-mean');
  await dym.click();
  await page.waitForURL((u) => new URL(u).searchParams.get('q') === 'hydrogen');
  await waitResults(page);
  assert.equal(new URL(page.url()).searchParams.get('correct'), null, 'a new query is corrected again');
  assert.ok(await hitCount(page) > 0);
  assert.equal(await page.inputValue('#q'), 'hydrogen');
});

test('the keyboard path: Tab to the box, type, Enter, Tab to a result, Enter', async (t) => {
  const page = await open(t);
  await page.goto(BASE + '/');
  await waitResults(page);
  let tabs = 0;
  do {
    await page.keyboard.press('Tab');
    tabs++;
  } while (tabs < 4 && (await page.evaluate(() => document.activeElement.id)) !== 'q');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'q', 'the box is reached by Tab');
  assert.ok(tabs <= 3, `reached in ${tabs} presses`);
  await page.keyboard.type('batterie');
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=batterie/);
  await waitResults(page);
  tabs = 0;
  while (tabs < 15 && !(await page.evaluate(() => document.activeElement.classList.contains('hit-link')))) {
    await page.keyboard.press('Tab');
    tabs++;
  }
  const focused = await page.evaluate(() => document.activeElement.textContent);
  assert.equal(focused, await page.locator('.hit-link').first().textContent(), 'first result focused');
  // the focus ring is visible
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  await shot(page, 'desktop-keyboard-focus');
  await page.keyboard.press('Enter');
  await page.waitForURL(/doc=/);
  await waitDoc(page);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'doc-title', 'focus moves to the document');
  assert.equal(await page.locator('#doc-title').textContent(), focused);
});

test('search-as-you-type suggestions can be chosen with the keyboard', async (t) => {
  const page = await open(t);
  // The UI contract: {"suggestions":[{text, kind, id?}]}; answered here so the widget is
  // tested whatever the state of /api/v1/suggest.
  await page.route('**/api/v1/suggest?*', (r) => r.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({ suggestions: [
      { text: 'hydrogen', kind: 'term' }, { text: 'hydrogène', kind: 'term' },
      { text: 'Hydrogen internal combustion engines', kind: 'title', id: 'nope' }] }),
  }));
  await page.goto(BASE + '/');
  await page.locator('#q').click();
  await page.keyboard.type('hydr');
  await page.waitForSelector('#suggestions:not([hidden]) [role=option]');
  assert.equal(await page.getAttribute('#q', 'aria-expanded'), 'true');
  assert.equal(await page.locator('#suggestions [role=option]').count(), 3);
  await shot(page, 'desktop-suggestions');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.getAttribute('#q', 'aria-activedescendant'), 'sugg-0');
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => new URL(u).searchParams.get('q') === 'hydrogen');
  await waitResults(page);
  assert.equal(await page.getAttribute('#q', 'aria-expanded'), 'false');
  // Escape closes the list without searching
  await page.fill('#q', '');
  await page.keyboard.type('hydr');
  await page.waitForSelector('#suggestions:not([hidden])');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#suggestions').isHidden(), true);
});

test('suggestions from the real server, or none when it has no endpoint', async (t) => {
  const page = await open(t);
  const res = await page.request.get(BASE + '/api/v1/suggest?q=hydr');
  await page.goto(BASE + '/');
  await page.locator('#q').click();
  await page.keyboard.type('hydr');
  if (res.status() === 200) {
    await page.waitForSelector('#suggestions:not([hidden]) [role=option]');
    const texts = await page.locator('#suggestions [role=option]').allTextContents();
    assert.ok(texts.some((s) => /^hydr/i.test(s)), `completions of "hydr": ${texts}`);
  } else {
    await page.waitForTimeout(600);
    assert.equal(await page.locator('#suggestions').isHidden(), true, 'no list, no error');
    await page.keyboard.type('ogen');
    await page.keyboard.press('Enter');
    await waitResults(page); // searching still works
  }
});

test('empty, error and loading states are explicit', async (t) => {
  const page = await open(t);
  await page.goto(BASE + '/?q=' + encodeURIComponent('zzqxv wwkkj'));
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.locator('#message .message-title').textContent(), /No results for/);
  assert.equal(await hitCount(page), 0);
  await shot(page, 'desktop-empty');
  // a failing server: error message with a retry button that works once it recovers
  let fail = true;
  await page.route('**/api/v1/search?*', async (r) => {
    if (!fail) return r.continue();
    await new Promise((ok) => setTimeout(ok, 400)); // long enough to see "Searching…"
    return r.fulfill({ status: 503, contentType: 'application/json',
      body: '{"error":{"code":"index_unavailable","message":"the index is being rebuilt","status":503}}' });
  });
  await page.fill('#q', 'hydrogen');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'Searching…');
  await page.waitForSelector('#message.error:not([hidden])');
  assert.match(await page.locator('#message').textContent(), /the index is being rebuilt/);
  await shot(page, 'desktop-error');
  fail = false;
  await page.locator('#message button').click();
  await waitResults(page);
  assert.equal(await page.locator('#message').isHidden(), true);
});

test('phone layout: results, filters and document fit the screen', async (t) => {
  const page = await open(t, { viewport: PHONE });
  await page.goto(BASE + '/?q=hydrogen');
  await waitResults(page);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok((await overflow()) <= 0, 'no horizontal scrolling');
  assert.equal(await page.locator('#facets').isVisible(), false, 'facets folded away');
  await shot(page, 'phone-results');
  await page.locator('#filters-toggle').click();
  assert.equal(await page.locator('#facets').isVisible(), true);
  assert.equal(await page.getAttribute('#filters-toggle', 'aria-expanded'), 'true');
  await shot(page, 'phone-filters');
  await page.locator('.facet[data-facet="lang"] .facet-value').first().click();
  await page.waitForURL(/lang=/);
  await waitResults(page);
  await page.locator('.hit-link').first().click();
  await waitDoc(page);
  assert.ok((await overflow()) <= 0, 'document fits');
  await shot(page, 'phone-document');
  await page.goto(BASE + '/');
  await waitResults(page);
  await shot(page, 'phone-home');
});

test('a member signs in with their key, sees member-only briefs with a badge, signs out', async (t) => {
  const key = process.env.KB_MEMBERS_KEY;
  if (!key) return t.skip('KB_MEMBERS_KEY is not set (run.sh sets it)');
  const page = await open(t);
  await page.goto(BASE + '/');
  await search(page, 'tramontex');
  assert.equal(await hitCount(page), 0, 'anonymous: no member-only brief');
  await page.click('#sign-in');
  await page.fill('#signin-key', 'not-a-valid-key-0123456789');
  await page.press('#signin-key', 'Enter');
  await page.locator('#signin-error:not([hidden])').waitFor();
  await page.fill('#signin-key', key);
  await page.press('#signin-key', 'Enter');
  await page.locator('#sign-out').waitFor();
  await waitResults(page);
  assert.equal(await hitCount(page), 2, 'signed in: both member-only briefs');
  assert.equal(await page.locator('#hits .badge.members').count(), 2);
  assert.ok(!page.url().includes(key), 'the key is never in the URL');
  const cookie = (await page.context().cookies()).find((c) => c.name === 'kb_session');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && !cookie.value.includes(key));
  assert.equal(await page.evaluate(() => document.cookie.includes('kb_session')), false);
  await shot(page, 'desktop-members-signed-in');
  await page.click('#sign-out');
  await page.locator('#sign-in').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#hits > li.hit').length === 0);
});

// The README's pictures (`make screenshots` copies them to docs/): the page as a member
// first sees a search, opened from its URL (so no suggestion list is open), at desktop
// and phone sizes.
for (const [name, viewport] of [['readme-desktop', DESKTOP], ['readme-phone', PHONE]]) {
  test(`screenshot for the README: ${name}`, async (t) => {
    const page = await open(t, { viewport });
    await page.goto(BASE + '/?q=hydrogen');
    await waitResults(page);
    assert.ok(await hitCount(page) >= 3);
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    assert.equal(await page.locator('#suggestions').isHidden(), true, 'no suggestion list');
    await shot(page, name);
  });
}
