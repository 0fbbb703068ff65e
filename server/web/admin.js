// SPDX-License-Identifier: MIT
//
// admin.js - the curators' corner of the search page. Opening /#admin shows a form for an
// API key with scope admin, then the most searched queries and the queries that found
// nothing (GET /api/v1/analytics/queries). The key is sent only in the Authorization
// header and kept in sessionStorage (this tab, until it closes or "Forget the key"),
// never in the URL or the page address. Kept apart from app.js, which it does not call:
// its texts join window.KB_I18N here (English, French, Italian), so app.js translates
// them with the rest of the page when the language changes.
'use strict';

(function () {
  const TEXTS = {
    en: {
      adminTitle: 'Query analytics',
      adminIntro: 'What members search for, and what they do not find. Only the submitted query is counted, never the address or the key of whoever searched.',
      adminKeyLabel: 'Admin API key',
      adminShow: 'Show',
      adminForget: 'Forget the key',
      adminPeriod: 'Period',
      adminDays7: 'Last 7 days',
      adminDays30: 'Last 30 days',
      adminDays90: 'Last 90 days',
      adminDays365: 'Last 12 months',
      adminTop: 'Most searched',
      adminZero: 'Searches that found nothing',
      adminEmpty: 'Nothing counted in this period.',
      adminLoading: 'Loading…',
      adminSince: 'Since {date}.',
      adminCount: '{n}×',
      adminBadKey: 'This key does not give access to the analytics (scope admin is needed).',
      adminError: 'The analytics could not be loaded ({status}).',
      adminBack: 'Back to the search',
    },
    fr: {
      adminTitle: 'Statistiques des recherches',
      adminIntro: 'Ce que les membres cherchent, et ce qu’ils ne trouvent pas. Seule la requête envoyée est comptée, jamais l’adresse ni la clé de la personne qui cherche.',
      adminKeyLabel: 'Clé d’API administrateur',
      adminShow: 'Afficher',
      adminForget: 'Oublier la clé',
      adminPeriod: 'Période',
      adminDays7: '7 derniers jours',
      adminDays30: '30 derniers jours',
      adminDays90: '90 derniers jours',
      adminDays365: '12 derniers mois',
      adminTop: 'Les plus cherchées',
      adminZero: 'Recherches sans résultat',
      adminEmpty: 'Rien de compté sur cette période.',
      adminLoading: 'Chargement…',
      adminSince: 'Depuis le {date}.',
      adminCount: '{n}×',
      adminBadKey: 'Cette clé ne donne pas accès aux statistiques (il faut le droit admin).',
      adminError: 'Les statistiques n’ont pas pu être chargées ({status}).',
      adminBack: 'Retour à la recherche',
    },
    it: {
      adminTitle: 'Statistiche delle ricerche',
      adminIntro: 'Che cosa cercano i membri e che cosa non trovano. Si conta solo la ricerca inviata, mai l’indirizzo né la chiave di chi cerca.',
      adminKeyLabel: 'Chiave API di amministrazione',
      adminShow: 'Mostra',
      adminForget: 'Dimentica la chiave',
      adminPeriod: 'Periodo',
      adminDays7: 'Ultimi 7 giorni',
      adminDays30: 'Ultimi 30 giorni',
      adminDays90: 'Ultimi 90 giorni',
      adminDays365: 'Ultimi 12 mesi',
      adminTop: 'Le più cercate',
      adminZero: 'Ricerche senza risultati',
      adminEmpty: 'Niente di contato in questo periodo.',
      adminLoading: 'Caricamento…',
      adminSince: 'Dal {date}.',
      adminCount: '{n}×',
      adminBadKey: 'Questa chiave non dà accesso alle statistiche (serve il permesso admin).',
      adminError: 'Non è stato possibile caricare le statistiche ({status}).',
      adminBack: 'Torna alla ricerca',
    },
  };
  const STORE = 'kb-admin-key';
  const dict = (window.KB_I18N = window.KB_I18N || {});
  for (const [lang, texts] of Object.entries(TEXTS)) dict[lang] = Object.assign(dict[lang] || {}, texts);

  let key = null; // in memory; sessionStorage keeps it for this tab
  let view = null;
  let seq = 0;

  function t(k, vars) {
    const lang = document.documentElement.lang;
    let s = (dict[lang] && dict[lang][k]) || dict.en[k] || k;
    for (const [n, v] of Object.entries(vars || {})) s = s.split('{' + n + '}').join(String(v));
    return s;
  }

  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') n.textContent = v;
      else if (k === 'i18n') {
        n.dataset.i18n = v;
        n.textContent = t(v);
      } else n.setAttribute(k, v);
    }
    n.append(...kids);
    return n;
  }

  function build() {
    const days = el('select', { id: 'admin-days' });
    for (const d of [7, 30, 90, 365]) days.append(el('option', { value: String(d), i18n: 'adminDays' + d }));
    days.value = '30';
    days.addEventListener('change', load);
    const input = el('input', { id: 'admin-key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: '' });
    const form = el('form', { id: 'admin-key-form' },
      el('label', { for: 'admin-key', i18n: 'adminKeyLabel' }), input,
      el('button', { type: 'submit', class: 'btn primary', i18n: 'adminShow' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault(); // never a GET with the key in the address
      key = input.value.trim();
      input.value = '';
      try {
        sessionStorage.setItem(STORE, key);
      } catch (e) {
        /* storage disabled: the key stays in memory */
      }
      load();
    });
    const forget = el('button', { type: 'button', class: 'linkish', id: 'admin-forget', i18n: 'adminForget' });
    forget.addEventListener('click', () => {
      forgetKey();
      showForm('');
    });
    view = el('section', { id: 'admin-view', 'aria-labelledby': 'admin-heading', hidden: '' },
      el('h1', { id: 'admin-heading', i18n: 'adminTitle', tabindex: '-1' }),
      el('p', { i18n: 'adminIntro' }),
      form,
      el('div', { class: 'admin-period', id: 'admin-period' },
        el('label', { for: 'admin-days', i18n: 'adminPeriod' }), days, forget),
      el('p', { id: 'admin-status', role: 'status', 'aria-live': 'polite' }),
      el('div', { class: 'admin-lists', id: 'admin-lists' },
        el('section', { 'aria-labelledby': 'admin-top-h' },
          el('h2', { id: 'admin-top-h', i18n: 'adminTop' }), el('ol', { id: 'admin-top' })),
        el('section', { 'aria-labelledby': 'admin-zero-h' },
          el('h2', { id: 'admin-zero-h', i18n: 'adminZero' }), el('ol', { id: 'admin-zero' }))),
      el('p', {}, el('a', { href: '/', id: 'admin-back', i18n: 'adminBack' })));
    (document.getElementById('main') || document.body).append(view);
  }

  const $ = (id) => document.getElementById(id);

  function forgetKey() {
    key = null;
    try {
      sessionStorage.removeItem(STORE);
    } catch (e) {
      /* nothing stored */
    }
  }

  function showForm(message) {
    $('admin-key-form').hidden = false;
    $('admin-period').hidden = true;
    $('admin-lists').hidden = true;
    $('admin-status').textContent = message;
    $('admin-key').focus();
  }

  function fill(list, items) {
    list.replaceChildren();
    if (!items.length) list.append(el('li', { i18n: 'adminEmpty' }));
    for (const it of items) {
      const a = el('a', { href: '/?q=' + encodeURIComponent(it.query), text: it.query });
      list.append(el('li', {}, a, el('span', { class: 'admin-count', text: t('adminCount', { n: it.count }) })));
    }
  }

  async function load() {
    if (!key) {
      showForm('');
      return;
    }
    const mine = ++seq;
    $('admin-key-form').hidden = true;
    $('admin-status').textContent = t('adminLoading');
    let res;
    try {
      res = await fetch('/api/v1/analytics/queries?limit=50&days=' + $('admin-days').value, {
        headers: { Accept: 'application/json', Authorization: 'Bearer ' + key },
        cache: 'no-store',
      });
    } catch (e) {
      if (mine === seq) showForm(t('adminError', { status: e.message }));
      return;
    }
    if (mine !== seq) return;
    if (res.status === 401 || res.status === 403) {
      forgetKey();
      showForm(t('adminBadKey'));
      return;
    }
    if (!res.ok) {
      $('admin-status').textContent = t('adminError', { status: res.status });
      $('admin-key-form').hidden = false;
      return;
    }
    const data = await res.json();
    $('admin-period').hidden = false;
    $('admin-lists').hidden = false;
    $('admin-status').textContent = t('adminSince', { date: data.since });
    fill($('admin-top'), data.top);
    fill($('admin-zero'), data.zero_results);
  }

  function route() {
    const on = location.hash === '#admin';
    if (on && !view) build();
    if (!view) return;
    document.body.classList.toggle('admin-mode', on);
    view.hidden = !on;
    if (!on) return;
    if (!key) {
      try {
        key = sessionStorage.getItem(STORE);
      } catch (e) {
        key = null;
      }
    }
    $('admin-heading').focus();
    load();
  }

  window.addEventListener('hashchange', route);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', route);
  else route();
})();
