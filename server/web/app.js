// SPDX-License-Identifier: MIT
//
// app.js - the members' search page. The whole state lives in the query string
// (q, lang, topic, org, type, from, to, sort, page; doc and p for the document view), so
// a URL can be shared and back/forward replay it: every change goes through navigate(),
// which pushes a history entry, and route() renders whatever the URL says. Data comes
// from the JSON API; nothing from the server is inserted as HTML except snippets and
// highlighted titles, which pass through sanitizeSnippet() (text and <mark> only), and
// Markdown originals are rendered by renderMarkdown() into DOM nodes (never as HTML). Texts come from i18n.js; the
// interface language is ?ui=, else the last choice (localStorage), else the browser's.
'use strict';

(function () {
  const PAGE_SIZE = 10;
  const FACETS = ['topic', 'lang', 'year', 'org', 'type'];
  const LIST_PARAMS = ['lang', 'topic', 'org', 'type'];
  const FACET_SHOWN = 6;
  const UI_LANGS = ['en', 'fr', 'it'];

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k === 'text') n.textContent = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) n.append(kid);
    return n;
  };

  let ui = 'en';
  let topics = {};
  let lastResults = null; // {state, data} of the results on screen
  let lastDoc = null; // {state, doc, similar, original}
  let searchSeq = 0;
  let searchAbort = null;
  let lastDocId = null; // to give focus back to its result link
  let session = { signed_in: false, members: false }; // GET /api/v1/session
  let signinOpen = false;
  const expanded = new Set(); // facets showing all their values

  // ---- texts ------------------------------------------------------------------------

  function t(key, vars) {
    const dict = window.KB_I18N || {};
    let s = (dict[ui] && dict[ui][key]) || (dict.en && dict.en[key]) || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split('{' + k + '}').join(String(v));
    return s;
  }

  function pickUiLang() {
    const fromUrl = new URLSearchParams(location.search).get('ui');
    if (UI_LANGS.includes(fromUrl)) return fromUrl;
    try {
      const saved = localStorage.getItem('kb-ui');
      if (UI_LANGS.includes(saved)) return saved;
    } catch (e) {
      /* storage disabled: use the browser's language */
    }
    for (const l of navigator.languages || [navigator.language || 'en']) {
      const base = String(l).slice(0, 2).toLowerCase();
      if (UI_LANGS.includes(base)) return base;
    }
    return 'en';
  }

  function applyTexts() {
    document.documentElement.lang = ui;
    for (const n of document.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
    for (const n of document.querySelectorAll('[data-i18n-placeholder]'))
      n.placeholder = t(n.dataset.i18nPlaceholder);
    for (const n of document.querySelectorAll('[data-i18n-aria-label]'))
      n.setAttribute('aria-label', t(n.dataset.i18nAriaLabel));
    $('ui-lang').value = ui;
    $('feed-link').title = t('feedTitle');
    renderAccount();
  }

  // ---- members' sign-in -------------------------------------------------------------
  // A member signs in with their key: POST /api/v1/session answers with a session cookie
  // (HttpOnly: this script never sees it; the key is neither kept nor put in a URL), and
  // every later request of the page carries it, so member-only briefs appear in results,
  // suggestions and the document view. X-Requested-With is the CSRF guard the server
  // asks for. Behind a single-sign-on proxy (Remote-User) members are signed in already:
  // there is nothing to sign in or out of.

  async function sessionRequest(method, body) {
    const res = await fetch('/api/v1/session', {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-Requested-With': 'kb-page' },
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const err = new Error(data && data.error ? data.error.message : 'HTTP ' + res.status);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  async function loadSession() {
    try {
      session = await getJson('/api/v1/session');
    } catch (e) {
      session = { signed_in: false, members: false };
    }
    renderAccount();
  }

  async function signIn(ev) {
    ev.preventDefault();
    const input = $('signin-key');
    const key = input.value;
    const msg = $('signin-error');
    if (!key) return;
    try {
      session = await sessionRequest('POST', { key });
      input.value = '';
      signinOpen = false;
      renderAccount();
      $('sign-out').focus();
      lastResults = lastDoc = null; // what is on screen was what an anonymous client sees
      route(); // the same view, now with member-only briefs
    } catch (e) {
      msg.textContent = e.status === 401 ? t('signInFailed') : t('signInError', { msg: e.message });
      msg.hidden = false;
      input.select();
    }
  }

  async function signOut() {
    try {
      session = await sessionRequest('DELETE');
    } catch (e) {
      session = { signed_in: false, members: false };
    }
    renderAccount();
    $('sign-in').focus();
    lastResults = lastDoc = null;
    route();
  }

  function renderAccount() {
    const top = document.querySelector('.top-inner');
    if (!top) return;
    let box = $('account');
    if (!box) {
      box = el('div', { class: 'account', id: 'account' });
      top.append(box);
    }
    box.replaceChildren();
    if (session.user && !session.signed_in) {
      box.append(el('span', { class: 'account-state', text: t('memberAs', { user: session.user }) }));
      return;
    }
    if (session.signed_in) {
      box.append(
        el('span', { class: 'account-state', text: session.members ? t('signedInMembers') : t('signedIn') }),
        el('button', { type: 'button', class: 'btn', id: 'sign-out', text: t('signOut'), onclick: signOut }));
      return;
    }
    const toggle = el('button', {
      type: 'button', class: 'btn', id: 'sign-in', 'aria-expanded': String(signinOpen),
      'aria-controls': 'signin-form', text: t('signIn'),
      onclick: () => {
        signinOpen = !signinOpen;
        renderAccount();
        if (signinOpen) $('signin-key').focus();
        else $('sign-in').focus();
      },
    });
    // method post: were this script to fail, the key would still never reach a URL
    const form = el('form', { class: 'signin', id: 'signin-form', method: 'post', action: '/api/v1/session', hidden: !signinOpen, onsubmit: signIn },
      el('label', { for: 'signin-key', class: 'visually-hidden', text: t('signInKey') }),
      el('input', { id: 'signin-key', type: 'password', autocomplete: 'current-password', required: true, placeholder: t('signInKey'), spellcheck: 'false' }),
      el('button', { type: 'submit', class: 'btn primary', text: t('signInSubmit') }),
      el('p', { id: 'signin-error', class: 'signin-error', role: 'alert', hidden: true }));
    box.append(toggle, form);
  }

  const membersBadge = () => el('span', { class: 'badge members', title: t('membersOnlyTitle'), text: t('membersOnly') });

  const langName = (code) => (t('lang_' + code) !== 'lang_' + code ? t('lang_' + code) : code);
  const typeName = (v) => (t('type_' + v) !== 'type_' + v ? t('type_' + v) : v);
  const topicName = (id) => (topics[id] && (topics[id][ui] || topics[id].en)) || id;

  function facetLabel(facet, value) {
    if (facet === 'lang') return langName(value);
    if (facet === 'topic') return topicName(value);
    if (facet === 'type') return typeName(value);
    return String(value);
  }

  function fmtNumber(n) {
    return new Intl.NumberFormat(ui).format(n);
  }

  function fmtDate(s) {
    if (!s) return '';
    const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(s);
    if (!m) return s;
    if (!m[2]) return m[1];
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, m[3] ? +m[3] : 1));
    const opts = m[3]
      ? { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }
      : { year: 'numeric', month: 'long', timeZone: 'UTC' };
    return new Intl.DateTimeFormat(ui, opts).format(d);
  }

  // ---- state <-> URL ----------------------------------------------------------------

  function readState(search) {
    const u = new URLSearchParams(search);
    const s = { q: u.get('q') || '', sort: u.get('sort') || 'relevance', page: 1 };
    for (const k of LIST_PARAMS) s[k] = u.getAll(k).flatMap((v) => v.split(',')).filter(Boolean);
    s.from = u.get('from') || '';
    s.to = u.get('to') || '';
    const page = parseInt(u.get('page') || '1', 10);
    s.page = page > 0 ? page : 1;
    if (!['relevance', 'newest', 'oldest'].includes(s.sort)) s.sort = 'relevance';
    s.doc = u.get('doc') || '';
    s.p = parseInt(u.get('p') || '0', 10) || 0;
    // "search instead for": the query exactly as typed, without typo tolerance
    s.exact = u.get('correct') === 'false';
    return s;
  }

  // The search part of a state as URLSearchParams (what the API accepts).
  function searchParams(s, withPage) {
    const u = new URLSearchParams();
    if (s.q) u.set('q', s.q);
    for (const k of LIST_PARAMS) for (const v of s[k]) u.append(k, v);
    if (s.from) u.set('from', s.from);
    if (s.to) u.set('to', s.to);
    if (s.sort !== 'relevance') u.set('sort', s.sort);
    if (s.exact && s.q) u.set('correct', 'false');
    if (withPage && s.page > 1) u.set('page', String(s.page));
    return u;
  }

  function stateUrl(s) {
    const u = searchParams(s, true);
    if (s.doc) {
      u.set('doc', s.doc);
      if (s.p) u.set('p', String(s.p));
    }
    const qs = u.toString();
    return '/' + (qs ? '?' + qs : '');
  }

  // a new query is searched with typo tolerance again
  const withChanges = (s, changes) => Object.assign({}, s, { doc: '', p: 0 },
    'q' in changes && changes.q !== s.q ? { exact: false } : {}, changes);
  const hasFilters = (s) => LIST_PARAMS.some((k) => s[k].length) || !!s.from || !!s.to;

  function navigate(s, opts) {
    const url = stateUrl(s);
    const fromResults = !readState(location.search).doc && !!s.doc;
    if (opts && opts.replace) history.replaceState({ fromResults }, '', url);
    else history.pushState({ fromResults }, '', url);
    route();
  }

  // Links are real links (open in a new tab, copy); a plain click navigates in place.
  function linkTo(s, attrs, ...kids) {
    const a = el('a', Object.assign({ href: stateUrl(s) }, attrs || {}), ...kids);
    a.addEventListener('click', (ev) => {
      if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      ev.preventDefault();
      navigate(s);
    });
    return a;
  }

  // Document ids are paths ("fr/x.md"): encode each segment, keep the slashes.
  const idPath = (id) => String(id).split('/').map(encodeURIComponent).join('/');

  // ---- API --------------------------------------------------------------------------

  async function getJson(url, signal) {
    let res;
    try {
      res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      const err = new Error(t('errorOffline'));
      err.offline = true;
      throw err;
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (!res.ok) {
      const msg = body && body.error && body.error.message ? body.error.message : res.statusText;
      const err = new Error(msg || 'HTTP ' + res.status);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  // ---- snippets and highlighting ----------------------------------------------------

  // The server sends snippets HTML-escaped with <mark> around matches. Parse them inertly
  // and keep only text and <mark>, so a bug on either side cannot inject markup.
  function sanitizeSnippet(html) {
    const tpl = document.createElement('template');
    tpl.innerHTML = String(html || '');
    const out = document.createDocumentFragment();
    const walk = (node, into) => {
      for (const c of node.childNodes) {
        if (c.nodeType === Node.TEXT_NODE) into.append(c.textContent);
        else if (c.nodeType === Node.ELEMENT_NODE && c.tagName === 'MARK') {
          const m = document.createElement('mark');
          walk(c, m);
          into.append(m);
        } else if (c.nodeType === Node.ELEMENT_NODE) walk(c, into);
      }
    };
    walk(tpl.content, out);
    return out;
  }

  const fold = (s) =>
    s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

  // Query words worth highlighting: operators, field prefixes and punctuation removed.
  function queryTerms(q) {
    const words = [];
    for (let w of String(q || '').split(/\s+/)) {
      w = w.replace(/^[+-]+/, '').replace(/^[a-z]+:/i, '');
      if (/^(AND|OR|NOT|XOR|NEAR|ADJ)$/.test(w)) continue;
      for (const part of fold(w).split(/[^\p{L}\p{N}]+/u)) if (part.length >= 2) words.push(part);
    }
    return [...new Set(words)];
  }

  // Does a body word match a query term? Folded prefix match with a little room for
  // inflection (batteries/battery, moteur/moteurs), exact for short terms like "h2".
  function wordMatches(word, terms) {
    const w = fold(word);
    for (const term of terms) {
      if (term.length < 4) {
        if (w === term) return true;
        continue;
      }
      const root = term.length > 5 ? term.slice(0, Math.max(4, term.length - 2)) : term;
      if (w.startsWith(root) && w.length <= term.length + 4) return true;
    }
    return false;
  }

  // Appends text to node with the matching words wrapped in <mark>. Returns the count.
  function appendHighlighted(node, text, terms) {
    if (!terms.length) {
      node.append(text);
      return 0;
    }
    let count = 0;
    let last = 0;
    const re = /[\p{L}\p{N}]+/gu;
    let m;
    while ((m = re.exec(text)) !== null) {
      if (!wordMatches(m[0], terms)) continue;
      if (m.index > last) node.append(text.slice(last, m.index));
      node.append(el('mark', { text: m[0] }));
      last = m.index + m[0].length;
      count++;
    }
    if (last < text.length) node.append(text.slice(last));
    return count;
  }

  // ---- suggestions (combobox) -------------------------------------------------------

  const sugg = { items: [], active: -1, timer: 0, seq: 0, unavailable: false, abort: null };

  function closeSuggestions() {
    sugg.items = [];
    sugg.active = -1;
    $('suggestions').hidden = true;
    $('suggestions').replaceChildren();
    $('q').setAttribute('aria-expanded', 'false');
    $('q').removeAttribute('aria-activedescendant');
  }

  function setActive(i) {
    const opts = $('suggestions').querySelectorAll('[role=option]');
    sugg.active = i;
    opts.forEach((o, j) => o.setAttribute('aria-selected', j === i ? 'true' : 'false'));
    if (i >= 0 && opts[i]) {
      $('q').setAttribute('aria-activedescendant', opts[i].id);
      opts[i].scrollIntoView({ block: 'nearest' });
    } else $('q').removeAttribute('aria-activedescendant');
  }

  function renderSuggestions(list, typed) {
    const box = $('suggestions');
    box.replaceChildren();
    sugg.items = list;
    sugg.active = -1;
    if (!list.length) {
      closeSuggestions();
      return;
    }
    const lastWord = fold(typed.split(/\s+/).pop() || '');
    list.forEach((s, i) => {
      const li = el('li', { id: 'sugg-' + i, role: 'option', 'aria-selected': 'false' });
      li.classList.add('sugg-' + (s.kind === 'title' ? 'title' : 'term'));
      const text = String(s.text || '');
      const f = fold(text);
      const cut = f.startsWith(lastWord) ? lastWord.length : 0;
      if (cut && s.kind !== 'title') li.append(text.slice(0, cut), el('strong', { text: text.slice(cut) }));
      else li.append(text);
      if (s.kind === 'title') li.append(el('span', { class: 'sugg-kind', text: t('suggestionDoc') }));
      li.addEventListener('mousedown', (ev) => {
        ev.preventDefault(); // keep the focus in the box
        chooseSuggestion(i);
      });
      box.append(li);
    });
    box.hidden = false;
    $('q').setAttribute('aria-expanded', 'true');
  }

  // Accepts {"suggestions":[{text,kind,id?}]} or {"completions":[{text}],"titles":[{id,title}]};
  // returns at most 6 completions then 3 titles as [{text, kind, id?}].
  function normalizeSuggestions(body) {
    const ok = (x) => x && typeof x.text === 'string' && x.text;
    if (body && Array.isArray(body.suggestions)) return body.suggestions.filter(ok).slice(0, 9);
    const terms = (body && Array.isArray(body.completions) ? body.completions : [])
      .filter(ok).slice(0, 6).map((c) => ({ text: c.text, kind: 'term' }));
    const titles = (body && Array.isArray(body.titles) ? body.titles : [])
      .filter((x) => x && x.id && x.title).slice(0, 3)
      .map((x) => ({ text: x.title, kind: 'title', id: String(x.id) }));
    return terms.concat(titles);
  }

  async function fetchSuggestions() {
    const typed = $('q').value;
    const seq = ++sugg.seq;
    if (sugg.unavailable || typed.trim().length < 2) {
      closeSuggestions();
      return;
    }
    if (sugg.abort) sugg.abort.abort();
    sugg.abort = new AbortController();
    try {
      const body = await getJson('/api/v1/suggest?q=' + encodeURIComponent(typed), sugg.abort.signal);
      if (seq !== sugg.seq || document.activeElement !== $('q')) return;
      renderSuggestions(normalizeSuggestions(body), typed);
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status === 404 || e.status === 405 || e.status === 501) sugg.unavailable = true;
      closeSuggestions();
    }
  }

  function chooseSuggestion(i) {
    const s = sugg.items[i];
    closeSuggestions();
    if (!s) return;
    const cur = readState(location.search);
    if (s.kind === 'title' && s.id) {
      navigate(withChanges(cur, { doc: String(s.id) }));
      return;
    }
    const typed = $('q').value;
    let q = s.text;
    if (!fold(s.text).startsWith(fold(typed.trim()))) {
      const words = typed.replace(/\s+$/, '').split(/(\s+)/);
      words[words.length - 1] = s.text;
      q = words.join('');
    }
    $('q').value = q;
    navigate(withChanges(cur, { q, page: 1 }));
  }

  function onSearchKey(ev) {
    const open = !$('suggestions').hidden && sugg.items.length > 0;
    if (ev.key === 'ArrowDown' && open) {
      ev.preventDefault();
      setActive((sugg.active + 1) % sugg.items.length);
    } else if (ev.key === 'ArrowUp' && open) {
      ev.preventDefault();
      setActive(sugg.active <= 0 ? sugg.items.length - 1 : sugg.active - 1);
    } else if (ev.key === 'Enter' && open && sugg.active >= 0) {
      ev.preventDefault();
      chooseSuggestion(sugg.active);
    } else if (ev.key === 'Escape' && open) {
      ev.preventDefault();
      closeSuggestions();
    }
  }

  // ---- results view -----------------------------------------------------------------

  function setMessage(box, title, help, actions) {
    box.replaceChildren(el('p', { class: 'message-title', text: title }));
    if (help) box.append(el('p', { text: help }));
    if (actions && actions.length) box.append(el('p', { class: 'message-actions' }, ...actions));
    box.hidden = false;
  }

  async function showResults(s) {
    $('doc-view').hidden = true;
    $('results-view').hidden = false;
    $('q').value = s.q;
    $('sort').value = s.sort;
    const feed = searchParams(s, false);
    $('feed-link').href = '/feed.atom' + (feed.toString() ? '?' + feed : '');
    document.title = (s.q ? s.q + ' – ' : '') + t('brand');

    if (lastResults && stateUrl(lastResults.state) === stateUrl(s) && lastResults.ui === ui) {
      renderResults(s, lastResults.data);
      return;
    }
    const seq = ++searchSeq;
    if (searchAbort) searchAbort.abort();
    searchAbort = new AbortController();
    const busy = setTimeout(() => {
      if (seq !== searchSeq) return;
      $('results-view').classList.add('loading');
      $('status').textContent = t('searching');
    }, 150);
    $('results-view').setAttribute('aria-busy', 'true');
    const api = searchParams(s, true);
    api.set('size', String(PAGE_SIZE));
    api.set('facets', 'true');
    api.set('snippets', 'true');
    // among near-equals, briefs in the reader's language first (a boost, not a filter)
    if (s.q) api.set('prefer_lang', ui);
    try {
      const data = await getJson('/api/v1/search?' + api, searchAbort.signal);
      if (seq !== searchSeq) return;
      lastResults = { state: s, data, ui };
      renderResults(s, data);
    } catch (e) {
      if (e.name === 'AbortError' || seq !== searchSeq) return;
      lastResults = null;
      renderError(s, e);
    } finally {
      if (seq === searchSeq) {
        clearTimeout(busy);
        $('results-view').classList.remove('loading');
        $('results-view').removeAttribute('aria-busy');
      }
    }
  }

  function renderError(s, e) {
    $('hits').replaceChildren();
    $('pager').hidden = true;
    $('did-you-mean').hidden = true;
    renderFacets(s, {});
    $('status').textContent = t('errorTitle');
    const retry = el('button', { type: 'button', class: 'btn', text: t('retry') });
    retry.addEventListener('click', () => showResults(s));
    setMessage($('message'), t('errorTitle'), e.offline ? t('errorOffline') : e.message, [retry]);
    $('message').classList.add('error');
  }

  function renderResults(s, data) {
    const hits = Array.isArray(data.hits) ? data.hits : [];
    const total = Number(data.total) || 0;
    $('results-heading').textContent = s.q ? t('resultsFor', { q: s.q }) : t('latest');
    $('message').classList.remove('error');

    let count;
    if (total === 0) count = t('countNone');
    else if (total === 1) count = t('countOne');
    else count = t(data.total_exact === false ? 'countAbout' : 'countMany', { n: fmtNumber(total) });
    const ms = typeof data.took_ms === 'number' ? data.took_ms : null;
    $('status').textContent =
      count + (ms !== null ? ' ' + t('took', { ms: fmtNumber(Math.max(1, Math.round(ms))) }) : '');

    renderDidYouMean(s, data.suggestion, data.corrected);
    renderActiveFilters(s);
    renderFacets(s, data.facets || {});

    const list = $('hits');
    list.replaceChildren();
    list.start = (s.page - 1) * PAGE_SIZE + 1;
    for (const h of hits) list.append(renderHit(s, h));

    if (!hits.length) {
      const actions = []; // "did you mean" is already the line above the results
      if (hasFilters(s)) {
        const b = el('button', { type: 'button', class: 'btn', text: t('removeFilters') });
        b.addEventListener('click', () => navigate(clearedFilters(s)));
        actions.push(b);
      }
      setMessage($('message'), s.q ? t('noResultsTitle', { q: s.q }) : t('noResultsAll'),
        t('noResultsHelp'), actions);
    } else if (data.relaxed) {
      setMessage($('message'), t('relaxed'));
      $('message').classList.add('info');
    } else {
      $('message').hidden = true;
    }
    renderPager(s, total);

    if (lastDocId) {
      const back = list.querySelector('a[data-id="' + CSS.escape(lastDocId) + '"]');
      lastDocId = null;
      if (back) back.focus();
    }
  }

  function renderHit(s, h) {
    const id = String(h.id);
    const docState = withChanges(s, { doc: id, p: h.page || 0 });
    const title = h.title_highlight ? sanitizeSnippet(h.title_highlight) : h.title || id;
    const a = linkTo(docState, { 'data-id': id, class: 'hit-link' }, title);
    if (h.lang) a.setAttribute('hreflang', h.lang);
    const meta = el('p', { class: 'hit-meta' });
    if (h.lang) meta.append(el('span', { class: 'badge', title: langName(h.lang), text: h.lang.toUpperCase() }));
    if (h.visibility === 'members') meta.append(membersBadge());
    const parts = [];
    // a file's time is not a publication date: not shown in the list
    if (h.date && h.date_source !== 'file') parts.push(el('time', { datetime: h.date, text: fmtDate(h.date) }));
    if (h.org) parts.push(el('span', { text: h.org }));
    if (h.type) parts.push(el('span', { text: typeName(h.type) }));
    if (h.page) parts.push(el('span', { class: 'hit-page', text: t('pageShort', { n: h.page }) }));
    parts.forEach((p, i) => meta.append(i ? el('span', { class: 'sep', 'aria-hidden': 'true', text: ' · ' }) : '', p));
    const li = el('li', { class: 'hit' }, el('h2', { class: 'hit-title', lang: h.lang || null }, a), meta);
    if (h.snippet) li.append(el('p', { class: 'snippet', lang: h.lang || null }, sanitizeSnippet(h.snippet)));
    if (Array.isArray(h.topics) && h.topics.length) {
      const ul = el('ul', { class: 'chips', 'aria-label': t('meta_topics') });
      for (const tp of h.topics) {
        const on = s.topic.includes(tp);
        ul.append(el('li', {}, on
          ? el('span', { class: 'chip on', text: topicName(tp) })
          : linkTo(withChanges(s, { topic: s.topic.concat([tp]), page: 1 }), { class: 'chip' }, topicName(tp))));
      }
      li.append(ul);
    }
    return li;
  }

  function renderDidYouMean(s, suggestion, corrected) {
    const p = $('did-you-mean');
    p.replaceChildren();
    // typo tolerance: the results include the corrected query's; the query as typed is
    // one click away
    if (corrected && corrected !== s.q && !s.exact) {
      p.append(t('showingFor') + ' ', el('strong', { class: 'corrected', text: corrected }),
        (ui === 'fr' ? ' ; ' : '; ') + t('searchInstead') + ' ',
        linkTo(withChanges(s, { exact: true, page: 1 }), { class: 'search-instead' }, el('strong', { text: s.q })));
      p.hidden = false;
      return;
    }
    if (!suggestion || suggestion === s.q) {
      p.hidden = true;
      return;
    }
    p.append(t('didYouMean') + ' ',
      linkTo(withChanges(s, { q: suggestion, page: 1 }), { class: 'suggestion' }, el('strong', { text: suggestion })),
      ' ?'.slice(ui === 'fr' ? 0 : 1));
    p.hidden = false;
  }

  function clearedFilters(s) {
    return withChanges(s, { lang: [], topic: [], org: [], type: [], from: '', to: '', page: 1 });
  }

  function yearOf(s) {
    return s.from && s.from === s.to && /^\d{4}$/.test(s.from) ? s.from : '';
  }

  function activeFilters(s) {
    const out = [];
    for (const k of ['topic', 'lang', 'org', 'type'])
      for (const v of s[k]) out.push({ facet: k, value: v, without: withChanges(s, { [k]: s[k].filter((x) => x !== v), page: 1 }) });
    if (s.from || s.to) {
      const y = yearOf(s);
      out.push({ facet: 'year', value: y || (s.from || '…') + ' – ' + (s.to || '…'), without: withChanges(s, { from: '', to: '', page: 1 }) });
    }
    return out;
  }

  function renderActiveFilters(s) {
    const box = $('active-filters');
    box.replaceChildren();
    const act = activeFilters(s);
    $('clear-all').hidden = !act.length;
    if (!act.length) {
      box.hidden = true;
      return;
    }
    for (const f of act) {
      const label = t('filterOn', { facet: t('facet_' + f.facet), value: facetLabel(f.facet, f.value) });
      box.append(linkTo(f.without, { class: 'chip on removable', 'aria-label': t('removeFilter', { f: label }) },
        el('span', { text: label }), el('span', { class: 'x', 'aria-hidden': 'true', text: '×' })));
    }
    box.hidden = false;
  }

  function renderFacets(s, facets) {
    const box = $('facet-groups');
    box.replaceChildren();
    for (const f of FACETS) {
      let values = Array.isArray(facets[f]) ? facets[f].slice() : [];
      const selected = f === 'year' ? (yearOf(s) ? [yearOf(s)] : []) : s[f];
      for (const v of selected) if (!values.some((x) => String(x.value) === v)) values.push({ value: v, count: 0 });
      if (!values.length) continue;
      if (f === 'year') values.sort((a, b) => String(b.value).localeCompare(String(a.value)));
      const group = el('section', { class: 'facet', 'data-facet': f });
      const hid = 'facet-h-' + f;
      const head = el('div', { class: 'facet-head' }, el('h3', { id: hid, text: t('facet_' + f) }));
      if (selected.length) {
        const without = f === 'year' ? { from: '', to: '', page: 1 } : { [f]: [], page: 1 };
        head.append(linkTo(withChanges(s, without), { class: 'linkish small', 'aria-label': t('clear') + ' – ' + t('facet_' + f) }, t('clear')));
      }
      group.append(head);
      const ul = el('ul', { 'aria-labelledby': hid });
      const all = expanded.has(f);
      values.forEach((v, i) => {
        const value = String(v.value);
        const on = selected.includes(value);
        let next;
        if (f === 'year') next = on ? { from: '', to: '', page: 1 } : { from: value, to: value, page: 1 };
        else next = { [f]: on ? s[f].filter((x) => x !== value) : s[f].concat([value]), page: 1 };
        const a = linkTo(withChanges(s, next), { class: 'facet-value' + (on ? ' on' : ''), 'aria-current': on ? 'true' : null, 'data-value': value },
          el('span', { class: 'check', 'aria-hidden': 'true' }),
          el('span', { class: 'label', text: facetLabel(f, value) }),
          el('span', { class: 'count', text: fmtNumber(v.count) }));
        ul.append(el('li', { hidden: !all && i >= FACET_SHOWN && !on }, a));
      });
      group.append(ul);
      if (values.length > FACET_SHOWN) {
        const more = el('button', { type: 'button', class: 'linkish small', 'aria-expanded': all ? 'true' : 'false', text: all ? t('showFewer') : t('showAll', { n: values.length }) });
        more.addEventListener('click', () => {
          if (expanded.has(f)) expanded.delete(f);
          else expanded.add(f);
          renderFacets(s, facets);
          const again = document.querySelector('.facet[data-facet="' + f + '"] button[aria-expanded]');
          if (again) again.focus();
        });
        group.append(more);
      }
      box.append(group);
    }
    // nothing to refine (no results): no empty "Refine" box, no Filters button
    const none = !box.children.length;
    $('facets').hidden = none;
    $('filters-toggle').hidden = none;
    document.querySelector('#results-view .layout').classList.toggle('no-facets', none);
  }

  function renderPager(s, total) {
    const nav = $('pager');
    nav.replaceChildren();
    const pages = Math.min(Math.ceil(total / PAGE_SIZE), 100);
    if (pages <= 1) {
      nav.hidden = true;
      return;
    }
    const ul = el('ul');
    const item = (n, label, cls, aria) => {
      if (n < 1 || n > pages) return el('li', { class: cls + ' disabled' }, el('span', { 'aria-hidden': 'true', text: label }));
      const a = linkTo(withChanges(s, { page: n }), { class: cls, 'aria-label': aria || t('pageN', { n }), 'aria-current': n === s.page ? 'page' : null }, label);
      a.addEventListener('click', () => $('results-heading').scrollIntoView());
      return el('li', {}, a);
    };
    ul.append(item(s.page - 1, '‹ ' + t('prev'), 'prev', t('prev')));
    const lo = Math.max(1, Math.min(s.page - 2, pages - 4));
    const hi = Math.min(pages, lo + 4);
    for (let n = lo; n <= hi; n++) ul.append(item(n, String(n), 'num'));
    ul.append(item(s.page + 1, t('next') + ' ›', 'next', t('next')));
    nav.append(ul, el('p', { class: 'page-of', text: t('pageOfM', { n: s.page, m: pages }) }));
    nav.hidden = false;
  }

  // ---- document view ----------------------------------------------------------------

  async function showDoc(s) {
    $('results-view').hidden = true;
    $('doc-view').hidden = false;
    $('q').value = s.q;
    const back = $('back-link');
    back.href = stateUrl(withChanges(s, {}));
    if (lastDoc && lastDoc.state.doc === s.doc && lastDoc.state.q === s.q && lastDoc.state.p === s.p) {
      renderDoc(s, lastDoc);
      return;
    }
    const seq = ++searchSeq;
    if (searchAbort) searchAbort.abort();
    searchAbort = new AbortController();
    $('doc-content').hidden = true;
    setMessage($('doc-message'), t('docLoading'));
    $('doc-message').classList.remove('error');
    $('doc-view').setAttribute('aria-busy', 'true');
    const id = idPath(s.doc);
    try {
      const doc = await getJson('/api/v1/documents/' + id, searchAbort.signal);
      if (seq !== searchSeq) return;
      lastDoc = { state: s, doc, similar: null, original: null };
      renderDoc(s, lastDoc);
      $('doc-title').focus();
      loadDocExtras(s, lastDoc, seq);
    } catch (e) {
      if (e.name === 'AbortError' || seq !== searchSeq) return;
      const retry = el('button', { type: 'button', class: 'btn', text: t('retry') });
      retry.addEventListener('click', () => showDoc(s));
      setMessage($('doc-message'), e.status === 404 ? t('docNotFound') : t('docError'),
        e.status === 404 ? null : e.message, e.status === 404 ? [] : [retry]);
      $('doc-message').classList.add('error');
      $('doc-message').setAttribute('tabindex', '-1');
      $('doc-message').focus();
    } finally {
      if (seq === searchSeq) $('doc-view').removeAttribute('aria-busy');
    }
  }

  // Similar documents and the original file: optional, the view works without them.
  async function loadDocExtras(s, entry, seq) {
    const id = idPath(s.doc);
    const similar = getJson('/api/v1/documents/' + id + '/similar', searchAbort.signal)
      .then((b) => (b && Array.isArray(b.hits) ? b.hits : []))
      .catch(() => []);
    // a Markdown original is read whole, to show its headings, lists and tables
    const md = String(entry.doc.format) === 'md';
    const original = fetch('/files/' + id, { method: md ? 'GET' : 'HEAD', signal: searchAbort.signal })
      .then(async (r) => {
        if (r.ok && md) entry.markdown = await r.text();
        return r.ok;
      })
      .catch(() => false);
    entry.similar = (await similar).filter((h) => String(h.id) !== s.doc).slice(0, 6);
    entry.original = await original;
    if (seq !== searchSeq) return;
    if (entry.markdown) renderBody(s, entry);
    renderDocExtras(s, entry);
  }

  function renderDoc(s, entry) {
    const d = entry.doc;
    $('doc-message').hidden = true;
    $('doc-content').hidden = false;
    document.title = (d.title || s.doc) + ' – ' + t('brand');
    const title = $('doc-title');
    title.textContent = d.title || s.doc;
    title.lang = d.lang || '';
    if (d.visibility === 'members') title.append(' ', membersBadge());

    const meta = $('doc-meta');
    meta.replaceChildren();
    const row = (key, ...value) => meta.append(el('div', { class: ['topics', 'authors', 'source'].includes(key) ? 'wide' : null }, el('dt', { text: t('meta_' + key) }), el('dd', {}, ...value)));
    if (d.date) row(d.date_source === 'file' ? 'fileDate' : 'date', el('time', { datetime: d.date, text: fmtDate(d.date) }));
    if (d.lang) row('lang', langName(d.lang));
    if (d.org) row('org', d.org);
    if (d.type) row('type', typeName(d.type));
    if (Array.isArray(d.topics) && d.topics.length) {
      const ul = el('ul', { class: 'chips' });
      for (const tp of d.topics) ul.append(el('li', {}, linkTo(withChanges(s, { q: '', lang: [], org: [], type: [], from: '', to: '', topic: [tp], page: 1 }), { class: 'chip' }, topicName(tp))));
      row('topics', ul);
    }
    if (Array.isArray(d.authors) && d.authors.length) row('authors', d.authors.join(', '));
    if (d.format) row('format', String(d.format).toUpperCase());
    if (d.pages) row('pages', fmtNumber(d.pages));
    if (d.source) row('source', el('span', { class: 'source', text: d.source }));

    const pages = renderBody(s, entry);

    const match = $('doc-match-link');
    if (pages > 1 && s.p >= 1 && s.p <= pages) {
      match.textContent = t('goToMatch', { n: s.p });
      match.href = '#page-' + s.p;
      match.hidden = false;
      match.onclick = (ev) => {
        ev.preventDefault();
        const target = $('page-' + s.p);
        target.scrollIntoView({ block: 'start' });
        target.setAttribute('tabindex', '-1');
        target.focus({ preventScroll: true });
      };
    } else match.hidden = true;
    renderDocExtras(s, entry);
  }

  // The document's text: its Markdown original when there is one (headings, lists,
  // tables), else the stored text, where a short line without final punctuation is a
  // heading and PDF pages are cut into paragraphs at lines that end a sentence short of
  // the page's width. Returns the number of pages.
  function renderBody(s, entry) {
    const d = entry.doc;
    const terms = queryTerms(s.q);
    const body = $('doc-body');
    body.replaceChildren();
    body.lang = d.lang || '';
    if (entry.markdown) {
      const sec = el('section', { class: 'page md', id: 'page-1' });
      renderMarkdown(sec, entry.markdown, terms, d.title || '');
      body.append(sec);
      return 1;
    }
    const pages = String(d.body || '').split('\f');
    const paged = pages.length > 1;
    const pdf = String(d.format) === 'pdf';
    pages.forEach((text, i) => {
      const sec = el('section', { class: 'page', id: 'page-' + (i + 1) });
      if (paged) sec.append(el('h2', { class: 'page-label', text: t('pageN', { n: i + 1 }) }));
      if (paged && s.p === i + 1) sec.classList.add('match-page');
      let first = i === 0;
      for (const para of textBlocks(text, pdf)) {
        // the title again at the top of the text: already the page's heading
        if (first && fold(para.text) === fold(d.title || '')) {
          first = false;
          continue;
        }
        first = false;
        const n = el(para.heading ? 'h3' : 'p', para.heading ? { class: 'doc-h' } : {});
        appendHighlighted(n, para.text, terms);
        sec.append(n);
      }
      body.append(sec);
    });
    return pages.length;
  }

  const ENDS_SENTENCE = /[.!?:;…»)"”]$/;

  // Stored text as [{text, heading}]: blank lines part paragraphs; a PDF page (lines,
  // no blank lines) is cut where a line ends a sentence well short of the widest line.
  function textBlocks(text, pdf) {
    const out = [];
    const push = (lines) => {
      const txt = lines.join(' ').replace(/\s+/g, ' ').trim();
      if (!txt) return;
      const heading = lines.length === 1 && txt.length <= 90 && !ENDS_SENTENCE.test(txt) && /^\p{Lu}/u.test(txt);
      out.push({ text: txt, heading });
    };
    for (const block of String(text).split(/\n\s*\n/)) {
      const lines = block.split('\n').map((l) => l.trim()).filter(Boolean);
      if (!pdf || lines.length < 2) {
        // list items keep their own lines
        if (lines.some((l) => /^([-*•]|\d+[.)])\s/.test(l))) for (const l of lines) push([l]);
        else push(lines);
        continue;
      }
      const width = Math.max(...lines.map((l) => l.length));
      let cur = [];
      lines.forEach((line, j) => {
        const short = line.length < width * 0.8;
        const next = lines[j + 1] || '';
        if (short && !ENDS_SENTENCE.test(line) && /^\p{Lu}/u.test(line) && /^\p{Lu}/u.test(next) && !cur.length) {
          push([line]); // a heading line
          return;
        }
        cur.push(line);
        if (short && ENDS_SENTENCE.test(line)) {
          push(cur);
          cur = [];
        }
      });
      push(cur);
    }
    return out;
  }

  // Inline Markdown (**strong**, *em*, `code`, [text](url)) into node, highlighted.
  // Text only: links keep their words, never their target.
  function appendInline(node, text, terms) {
    const re = /(\*\*|__)(.+?)\1|(\*|_)(?=\S)(.+?)\3(?!\w)|`([^`]+)`|\[([^\]]+)\]\([^)]*\)/g;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) appendHighlighted(node, text.slice(last, m.index), terms);
      if (m[2] !== undefined) appendInline(node.appendChild(el('strong')), m[2], terms);
      else if (m[4] !== undefined) appendInline(node.appendChild(el('em')), m[4], terms);
      else if (m[5] !== undefined) node.append(el('code', { text: m[5] }));
      else appendHighlighted(node, m[6], terms);
      last = m.index + m[0].length;
    }
    if (last < text.length) appendHighlighted(node, text.slice(last), terms);
  }

  // A small, safe Markdown renderer for the briefs (CommonMark's common part: ATX
  // headings, paragraphs, - * + and 1. lists, > quotes, ``` code, pipe tables). Every
  // text goes in as text: raw HTML in the source shows as written, never as markup.
  function renderMarkdown(into, src, terms, title) {
    let text = String(src).replace(/\r\n?/g, '\n');
    text = text.replace(/^---\n[\s\S]*?\n(---|\.\.\.)\n/, ''); // front matter
    const lines = text.split('\n');
    let para = [];
    let list = null;
    let item = null;
    let firstHeading = true;
    const flush = () => {
      if (para.length) {
        const p = el('p');
        appendInline(p, para.join(' ').replace(/\s+/g, ' ').trim(), terms);
        into.append(p);
      }
      para = [];
    };
    const endList = () => {
      list = null;
      item = null;
    };
    const cells = (l) => l.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      let m;
      if (/^\s*```/.test(line)) {
        flush();
        endList();
        const code = [];
        for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) code.push(lines[i]);
        into.append(el('pre', {}, el('code', { text: code.join('\n') })));
      } else if ((m = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
        flush();
        endList();
        const level = Math.min(m[1].length + 1, 6); // the page's h1 is the title
        if (firstHeading && m[1].length === 1 && fold(m[2]) === fold(title)) {
          firstHeading = false;
          continue;
        }
        firstHeading = false;
        const h = el('h' + level, { class: 'doc-h' });
        appendInline(h, m[2], terms);
        into.append(h);
      } else if (/^\s*\|.*\|\s*$/.test(line) && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[i + 1] || '') && (lines[i + 1] || '').includes('-')) {
        flush();
        endList();
        const table = el('table', { class: 'md-table' });
        const head = el('tr');
        for (const c of cells(line)) appendInline(head.appendChild(el('th', { scope: 'col' })), c, terms);
        table.append(el('thead', {}, head));
        const tb = el('tbody');
        for (i += 2; i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i]); i++) {
          const tr = el('tr');
          for (const c of cells(lines[i])) appendInline(tr.appendChild(el('td')), c, terms);
          tb.append(tr);
        }
        i--;
        table.append(tb);
        into.append(el('div', { class: 'table-wrap' }, table));
      } else if ((m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line))) {
        flush();
        const ordered = /\d/.test(m[1]);
        if (!list || list.ordered !== ordered) {
          list = { ordered, node: el(ordered ? 'ol' : 'ul', { class: 'md-list' }) };
          into.append(list.node);
        }
        item = el('li');
        appendInline(item, m[2], terms);
        list.node.append(item);
      } else if ((m = /^\s*>\s?(.*)$/.exec(line))) {
        flush();
        endList();
        const q = el('blockquote');
        appendInline(q.appendChild(el('p')), m[1], terms);
        into.append(q);
      } else if (!line.trim()) {
        flush();
        if (!(lines[i + 1] || '').match(/^\s*([-*+]|\d+[.)])\s/)) endList();
      } else if (item && /^\s+\S/.test(line)) {
        item.append(' ');
        appendInline(item, line.trim(), terms); // a list item's next line
      } else {
        endList();
        para.push(line.trim());
      }
    }
    flush();
  }

  function renderDocExtras(s, entry) {
    const orig = $('doc-original');
    const id = idPath(s.doc);
    if (entry.original) {
      orig.href = '/files/' + id;
      orig.textContent = t('original') + (entry.doc.format ? ' (' + String(entry.doc.format).toUpperCase() + ')' : '');
    } else {
      orig.href = '/api/v1/documents/' + id;
      orig.textContent = t('originalJson');
    }
    const list = $('similar-list');
    list.replaceChildren();
    if (entry.similar === null) return;
    if (!entry.similar.length) {
      list.append(el('li', { class: 'muted', text: t('noSimilar') }));
      return;
    }
    for (const h of entry.similar) {
      const a = linkTo(withChanges(s, { doc: String(h.id), p: 0 }), { lang: h.lang || null }, h.title || String(h.id));
      const meta = el('span', { class: 'muted small' },
        [h.lang ? h.lang.toUpperCase() : '', h.date && h.date_source !== 'file' ? fmtDate(h.date) : '', h.org || ''].filter(Boolean).join(' · '));
      list.append(el('li', {}, a, meta));
    }
  }

  // ---- routing and wiring -----------------------------------------------------------

  function route() {
    closeSuggestions();
    const s = readState(location.search);
    if (s.doc) {
      lastDocId = s.doc;
      showDoc(s);
    } else showResults(s);
  }

  function wire() {
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      closeSuggestions();
      const cur = readState(location.search);
      navigate(withChanges(cur, { q: $('q').value.trim(), page: 1 }));
    });
    $('q').addEventListener('input', () => {
      clearTimeout(sugg.timer);
      sugg.timer = setTimeout(fetchSuggestions, 120);
    });
    $('q').addEventListener('keydown', onSearchKey);
    $('q').addEventListener('blur', () => setTimeout(closeSuggestions, 100));
    $('sort').addEventListener('change', () => {
      navigate(withChanges(readState(location.search), { sort: $('sort').value, page: 1 }));
    });
    $('clear-all').addEventListener('click', () => navigate(clearedFilters(readState(location.search))));
    $('filters-toggle').addEventListener('click', () => {
      const open = $('facets').classList.toggle('open');
      $('filters-toggle').setAttribute('aria-expanded', open ? 'true' : 'false');
      if (open) {
        const first = $('facets').querySelector('a, button');
        if (first) first.focus();
      }
    });
    $('home-link').addEventListener('click', (ev) => {
      if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      ev.preventDefault();
      navigate(readState(''));
    });
    $('back-link').addEventListener('click', (ev) => {
      if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      ev.preventDefault();
      if (history.state && history.state.fromResults) history.back();
      else navigate(withChanges(readState(location.search), {}));
    });
    $('ui-lang').addEventListener('change', () => {
      ui = $('ui-lang').value;
      try {
        localStorage.setItem('kb-ui', ui);
      } catch (e) {
        /* not remembered: fine */
      }
      const u = new URLSearchParams(location.search);
      if (u.has('ui')) {
        u.delete('ui');
        history.replaceState(history.state, '', '/' + (u.toString() ? '?' + u : ''));
      }
      applyTexts();
      route();
    });
    window.addEventListener('popstate', route);
  }

  async function start() {
    ui = pickUiLang();
    applyTexts();
    wire();
    loadSession(); // in parallel: the sign-in control appears when it answers
    try {
      const res = await fetch('/static/topics.json');
      if (res.ok) topics = await res.json();
    } catch (e) {
      topics = {}; // labels fall back to topic ids
    }
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
