// Nod test app: a phone-sized page that *is* a person's app. It talks to the app API
// (/app-api/v1) and nothing else. Plain JS, no build step; every element is built with
// the DOM API (no innerHTML), so data from the server is always text.
'use strict';

(() => {
  const API = '/app-api/v1';
  const USER_KEY = 'nod-test-app:user';
  const tokenKey = (phone) => `nod-test-app:token:${phone}`;
  const POLL_MS = 5000;
  const RECONNECT_MS = 1500;
  const STALE_STREAM_MS = 40000;
  const OPEN_URL_DELAY_MS = 300;

  const $app = document.getElementById('app');
  const $who = document.getElementById('who');
  const $actions = document.getElementById('top-actions');
  const $status = document.getElementById('status');
  const $announce = document.getElementById('announce');

  const TABS = [
    { id: 'requests', label: 'Requests' },
    { id: 'consents', label: 'Consents' },
    { id: 'browsers', label: 'Browsers' },
    { id: 'profile', label: 'Profile' },
  ];

  const state = {
    user: null, // {phone_number, name, country}
    session: 0, // bumped whenever the user changes; stale async work checks it
    tab: 'requests',
    ticket: new URLSearchParams(window.location.search).get('ticket'),
    cards: new Map(), // login request id -> card
    focusId: null, // the request opened from a deep link: shown first
    known: null, // ids seen so far, to announce new requests
    abort: null,
    timers: [],
    ui: null, // elements of the main screen
  };

  // ---------------------------------------------------------------- DOM helpers

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value == null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else if (typeof value === 'boolean') el[key] = value;
      else el.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  function setStatus(kind, ...content) {
    $status.className = `status ${kind}`;
    $status.replaceChildren(...content);
  }
  const info = (...c) => setStatus('info', ...c);
  const ok = (...c) => setStatus('ok', ...c);
  const fail = (...c) => setStatus('error', ...c);
  const clearStatus = () => setStatus('');

  function announce(text) {
    $announce.textContent = '';
    window.setTimeout(() => {
      $announce.textContent = text;
    }, 50);
  }

  const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

  const phoneText = (phone) => `+${phone}`;

  function countryName(code) {
    if (!code) return '';
    try {
      return new Intl.DisplayNames(['en'], { type: 'region' }).of(code) || code;
    } catch {
      return code;
    }
  }

  function initials(name) {
    return (name || '?')
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((part) => part[0].toUpperCase())
      .join('');
  }

  function timeEl(seconds) {
    if (seconds == null) return h('span', { text: '—' });
    const date = new Date(seconds * 1000);
    const text = date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
    return h('time', { datetime: date.toISOString(), text });
  }

  function formatLeft(secs) {
    const s = Math.max(0, secs);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, description) {
      super(description);
      this.status = status;
      this.code = code;
    }
  }

  const registering = new Map(); // phone -> promise of a token

  async function registerDevice(phone) {
    const data = await request('POST', '/devices', { phone_number: phone }, null);
    if (!data || !data.device_token) throw new ApiError(500, 'bad_response', 'The server did not return a device token.');
    localStorage.setItem(tokenKey(phone), data.device_token);
    return data.device_token;
  }

  /** The stored device token for a phone number, registering a device if there is none. */
  function deviceToken(phone) {
    const stored = localStorage.getItem(tokenKey(phone));
    if (stored) return Promise.resolve(stored);
    if (!registering.has(phone)) {
      registering.set(
        phone,
        registerDevice(phone).finally(() => registering.delete(phone)),
      );
    }
    return registering.get(phone);
  }

  /** Forgets a token the server refused (unless another call already replaced it). */
  function forgetToken(phone, token) {
    if (localStorage.getItem(tokenKey(phone)) === token) localStorage.removeItem(tokenKey(phone));
  }

  async function request(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, 'network', 'Could not reach Nod. Is the server running?');
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      throw new ApiError(
        response.status,
        (data && data.error) || `http_${response.status}`,
        (data && data.error_description) || `The server answered ${response.status}.`,
      );
    }
    return data;
  }

  /** An app API call as the current user's device; a refused token registers again once. */
  async function api(method, path, body) {
    const user = state.user;
    if (!user) throw new ApiError(0, 'no_user', 'Pick a test user first.');
    const phone = user.phone_number;
    for (let attempt = 0; ; attempt += 1) {
      let token;
      try {
        token = await deviceToken(phone);
      } catch (error) {
        if (error.code === 'invalid_user' && state.user === user) userGone();
        throw error;
      }
      try {
        return await request(method, path, body, token);
      } catch (error) {
        if (error.status === 401 && attempt === 0) {
          forgetToken(phone, token);
          continue;
        }
        throw error;
      }
    }
  }

  function sentence(text) {
    if (!text) return '';
    const s = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(s) ? s : `${s}.`;
  }

  function errorText(error) {
    if (!(error instanceof ApiError)) return 'Something went wrong. Try again.';
    switch (error.code) {
      case 'wrong_challenge':
        return 'Wrong number: the login was cancelled.';
      case 'expired_token':
        return 'Too late: this login request has expired.';
      case 'network':
        return error.message;
      default:
        if (error.status === 409) return 'This login request was already answered.';
        return sentence(error.message);
    }
  }

  // ---------------------------------------------------------------- sessions

  function savedUser() {
    try {
      const user = JSON.parse(localStorage.getItem(USER_KEY) || 'null');
      return user && typeof user.phone_number === 'string' ? user : null;
    } catch {
      return null;
    }
  }

  function stopSession() {
    state.session += 1;
    if (state.abort) state.abort.abort();
    state.abort = null;
    for (const id of state.timers) window.clearInterval(id);
    state.timers = [];
    state.user = null;
    state.cards.clear();
    state.focusId = null;
    state.known = null;
    state.ui = null;
    $who.hidden = true;
    $who.replaceChildren();
    $actions.replaceChildren();
  }

  function userGone() {
    stopSession();
    localStorage.removeItem(USER_KEY);
    showStart();
    fail('That test user is gone. Pick another one.');
  }

  function switchUser() {
    stopSession();
    localStorage.removeItem(USER_KEY);
    clearStatus();
    showStart();
  }

  // ---------------------------------------------------------------- start screen

  async function showStart() {
    const session = state.session;
    const list = h('ul', { class: 'users', 'aria-labelledby': 'start-title' });
    const intro = state.ticket
      ? h('p', { class: 'note' }, 'You opened a login link. Pick who you are to continue.')
      : h('p', { class: 'muted' }, 'This page is a person’s Nod app. Choose who you are.');
    $app.replaceChildren(
      h('h1', { id: 'start-title', text: 'Pick a test user' }),
      intro,
      list,
    );
    list.append(h('li', { class: 'muted' }, 'Loading test users…'));
    let users;
    try {
      const data = await request('GET', '/test-users');
      users = (data && data.users) || [];
    } catch (error) {
      if (session !== state.session) return;
      list.replaceChildren();
      fail(`Could not load the test users. ${errorText(error)}`);
      $app.append(h('button', { type: 'button', class: 'button secondary', onclick: () => { clearStatus(); showStart(); } }, 'Try again'));
      return;
    }
    if (session !== state.session) return;
    if (users.length === 0) {
      list.replaceChildren(h('li', { class: 'muted' }, 'There are no test users. Start Nod with --demo.'));
      return;
    }
    list.replaceChildren(
      ...users.map((user) => {
        const country = countryName(user.country);
        return h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              class: 'user',
              'data-testid': `user-${user.phone_number}`,
              onclick: (event) => pickUser(user, event.currentTarget),
            },
            h('span', { class: 'avatar', 'aria-hidden': 'true', text: initials(user.name) }),
            h(
              'span',
              { class: 'user-text' },
              h('span', { class: 'user-name', text: user.name }),
              h('span', { class: 'user-phone', text: phoneText(user.phone_number) }),
              userNotes(user),
            ),
            user.country
              ? h('span', { class: 'country', title: country }, h('span', { 'aria-hidden': 'true', text: user.country }), h('span', { class: 'sr-only', text: country }))
              : null,
          ),
        );
      }),
    );
  }

  /** What is special about a test user (the demo data has some on purpose). */
  function userNotes(user) {
    const notes = [];
    if (user.may_log_in === false) notes.push('under 15: cannot log in');
    if (user.email_verified === false) notes.push('e-mail not verified');
    if (user.has_address === false) notes.push('no address');
    if (notes.length === 0) return null;
    return h('span', { class: 'user-notes', 'data-testid': 'user-notes', text: notes.join(' · ') });
  }

  async function pickUser(user, button) {
    const buttons = $app.querySelectorAll('button.user');
    buttons.forEach((b) => { b.disabled = true; });
    button.setAttribute('aria-busy', 'true');
    info(`Setting up the app for ${user.name}…`);
    try {
      await deviceToken(user.phone_number);
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      button.removeAttribute('aria-busy');
      fail(`Could not register a device for ${user.name}. ${errorText(error)}`);
      return;
    }
    const chosen = { phone_number: user.phone_number, name: user.name, country: user.country || null };
    localStorage.setItem(USER_KEY, JSON.stringify(chosen));
    clearStatus();
    enterMain(chosen);
  }

  // ---------------------------------------------------------------- main screen

  async function enterMain(user) {
    stopSession();
    state.user = user;
    const session = state.session;

    $who.replaceChildren(
      h('span', { class: 'avatar small', 'aria-hidden': 'true', text: initials(user.name) }),
      h(
        'span',
        { class: 'who-text' },
        h('span', { class: 'who-name', text: user.name }),
        h('span', { class: 'who-phone', text: phoneText(user.phone_number) }),
      ),
    );
    $actions.replaceChildren(h('button', { type: 'button', class: 'chip', 'data-testid': 'switch-user', onclick: switchUser }, 'Switch user'));
    $who.hidden = false;

    const tabs = TABS.map((tab) =>
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `tab-${tab.id}`,
          class: 'tab',
          'data-testid': `tab-${tab.id}`,
          'aria-controls': `panel-${tab.id}`,
          onclick: () => selectTab(tab.id),
          onkeydown: onTabKey,
        },
        h('span', { text: tab.label }),
        tab.id === 'requests' ? h('span', { class: 'badge', 'data-testid': 'request-count', hidden: true }) : null,
      ),
    );
    const panels = Object.fromEntries(
      TABS.map((tab) => [
        tab.id,
        h('section', { role: 'tabpanel', id: `panel-${tab.id}`, class: 'panel', 'aria-labelledby': `tab-${tab.id}`, hidden: true }),
      ]),
    );

    // The requests panel stays in place; its cards are updated, not rebuilt.
    const live = h('span', { class: 'live', 'data-testid': 'live' }, 'Connecting…');
    const list = h('div', { class: 'requests' });
    const empty = h('div', { class: 'empty', 'data-testid': 'empty', hidden: true },
      h('span', { class: 'empty-icon', 'aria-hidden': 'true' }),
      h('p', null, 'No login requests. Start a login in the browser.'));
    const problem = h('p', { class: 'note error', hidden: true });
    panels.requests.append(
      h('div', { class: 'panel-head' }, h('h2', { id: 'requests-title', tabindex: '-1', text: 'Login requests' }), live),
      problem,
      list,
      empty,
    );

    state.ui = { tabs, panels, list, empty, live, problem, badge: tabs[0].querySelector('.badge') };
    $app.replaceChildren(h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Sections' }, tabs), ...Object.values(panels));
    selectTab('requests', { focus: false, load: false });
    empty.hidden = true;
    list.append(h('p', { class: 'muted', 'data-placeholder': '' }, 'Loading…'));

    if (state.ticket) await openTicket(session);
    if (session !== state.session) return;

    refreshRequests();
    runEvents(session);
    state.timers.push(window.setInterval(() => refreshRequests(), POLL_MS));
    state.timers.push(window.setInterval(tick, 1000));
  }

  function selectTab(id, { focus = false, load = true } = {}) {
    const ui = state.ui;
    if (!ui) return;
    state.tab = id;
    for (const tab of ui.tabs) {
      const selected = tab.id === `tab-${id}`;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    for (const [key, panel] of Object.entries(ui.panels)) panel.hidden = key !== id;
    if (!load) return;
    if (id === 'requests') refreshRequests();
    if (id === 'consents') loadConsents();
    if (id === 'browsers') loadBrowsers();
    if (id === 'profile') loadProfile();
  }

  function onTabKey(event) {
    const ids = TABS.map((t) => t.id);
    const index = ids.indexOf(state.tab);
    let next = null;
    if (event.key === 'ArrowRight') next = ids[(index + 1) % ids.length];
    else if (event.key === 'ArrowLeft') next = ids[(index - 1 + ids.length) % ids.length];
    else if (event.key === 'Home') next = ids[0];
    else if (event.key === 'End') next = ids[ids.length - 1];
    if (next) {
      event.preventDefault();
      selectTab(next, { focus: true });
    }
  }

  // ---------------------------------------------------------------- deep links

  async function openTicket(session) {
    const ticket = state.ticket;
    state.ticket = null;
    info('Opening the login link…');
    try {
      const view = await api('POST', '/login-requests/open', { ticket });
      if (session !== state.session) return;
      state.focusId = view.id;
      upsertCard(view);
      placeCards([view]);
      clearStatus();
      announce(`Login request from ${view.sales_unit_name}.`);
    } catch (error) {
      if (session !== state.session) return;
      if (error.status === 404 || error.status === 400) fail('This link is no longer valid. It was already used or has expired.');
      else fail(`This link is no longer valid. ${errorText(error)}`);
    } finally {
      window.history.replaceState(null, '', '/test-app/');
    }
  }

  // ---------------------------------------------------------------- login requests

  let refreshing = null;
  let refreshAgain = false;

  /** Reloads the pending list; calls during a reload coalesce into one more reload. */
  function refreshRequests() {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        refreshAgain = false;
        await loadRequests();
      } while (refreshAgain);
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function loadRequests() {
    const session = state.session;
    if (!state.user || !state.ui) return;
    let views;
    try {
      const data = await api('GET', '/login-requests');
      views = (data && data.login_requests) || [];
    } catch (error) {
      if (session !== state.session || !state.ui) return;
      state.ui.problem.textContent = `Could not load login requests. ${errorText(error)}`;
      state.ui.problem.hidden = false;
      return;
    }
    if (session !== state.session || !state.ui) return;
    state.ui.problem.hidden = true;
    renderRequests(views);
  }

  function renderRequests(views) {
    const ids = new Set(views.map((v) => v.id));
    for (const [id, card] of state.cards) {
      if (!ids.has(id)) {
        card.el.remove();
        state.cards.delete(id);
        if (state.focusId === id) state.focusId = null;
      }
    }
    const fresh = [];
    for (const view of views) {
      if (!state.cards.has(view.id) && state.known && !state.known.has(view.id)) fresh.push(view);
      upsertCard(view);
    }
    state.known = new Set([...(state.known || []), ...ids]);
    placeCards(views);
    if (fresh.length === 1) announce(`New login request from ${fresh[0].sales_unit_name}.`);
    else if (fresh.length > 1) announce(`${fresh.length} new login requests.`);
  }

  /** Puts the cards in the list in order (the deep-linked one first), moving as little as possible. */
  function placeCards(views) {
    const ui = state.ui;
    ui.list.querySelectorAll('[data-placeholder]').forEach((el) => el.remove());
    const order = views
      .map((v) => v.id)
      .filter((id) => state.cards.has(id))
      .sort((a, b) => (b === state.focusId) - (a === state.focusId));
    order.forEach((id, i) => {
      const el = state.cards.get(id).el;
      if (ui.list.children[i] !== el) ui.list.insertBefore(el, ui.list.children[i] || null);
    });
    for (const card of state.cards.values()) card.el.classList.toggle('focus', card.view.id === state.focusId);
    const count = state.cards.size;
    ui.empty.hidden = count > 0;
    ui.badge.hidden = count === 0;
    ui.badge.textContent = String(count);
    ui.badge.setAttribute('aria-label', `${count} pending`);
  }

  const signature = (v) =>
    JSON.stringify([
      v.sales_unit_name, v.kind, v.scopes, v.binding_message, v.choices,
      v.consent_in_app, v.consent_scopes, v.delegated_consents, v.opened_from_link,
    ]);

  /** How long ago a login started, in words ("12 seconds ago"), from the server's time. */
  function startedAgo(startedAt) {
    const seconds = Math.max(0, Math.round(Date.now() / 1000 - startedAt));
    if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'} ago`;
    return `${Math.round(seconds / 60)} minutes ago`;
  }

  const isMerchantInitiated = (view) => view.kind === 'merchant_initiated';

  /** The sales unit's consent questions (`delegated_consents`), or null when there are none. */
  function delegatedQuestions(view) {
    const dc = view.delegated_consents;
    if (!dc || !Array.isArray(dc.consents)) return null;
    return dc.consents.filter((q) => q && typeof q.id === 'string');
  }

  /** Only web links: a server-supplied URL never becomes a javascript: link. */
  function webUrl(url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function upsertCard(view) {
    const deadline = Date.now() + Math.max(0, Number(view.expires_in) || 0) * 1000;
    const existing = state.cards.get(view.id);
    if (existing && signature(existing.view) === signature(view)) {
      existing.view = view;
      // Only follow the server's clock when it disagrees noticeably, so the countdown is smooth.
      if (Math.abs(existing.deadline - deadline) > 2000) existing.deadline = deadline;
      return existing;
    }
    const card = buildCard(view, deadline, existing);
    if (existing) existing.el.replaceWith(card.el);
    state.cards.set(view.id, card);
    updateTimer(card);
    return card;
  }

  function sameScopes(a, b) {
    const key = (list) => list.map((s) => s.scope).sort().join(' ');
    return key(a) === key(b);
  }

  function scopeList(scopes, label) {
    return h('ul', { class: 'scopes', 'aria-label': label }, scopes.map((s) => h('li', { text: s.description })));
  }

  /** The code the merchant shows (CIBA `binding_message`): big, to compare at a glance. */
  function bindingBox(view) {
    const hintId = `req-${view.id}-binding-hint`;
    return h(
      'div',
      { class: 'binding' },
      h('p', { class: 'binding-label', text: isMerchantInitiated(view) ? 'Code at the till' : 'Code' }),
      h('p', { class: 'binding-code', 'data-testid': 'binding-message', 'aria-describedby': hintId, text: view.binding_message }),
      h('p', { class: 'binding-hint', id: hintId, text: isMerchantInitiated(view) ? 'Check that the till shows the same code' : 'Check that the shop shows the same code' }),
    );
  }

  /** The sales unit's own consent questions (`delegated_consents`): one checkbox each. */
  function delegatedBox(card, questions, previous) {
    const view = card.view;
    const dc = view.delegated_consents;
    const links = dc.links || {};
    const link = (text, url) => {
      const href = webUrl(url);
      if (!text) return null;
      return href
        ? h('a', { href, target: '_blank', rel: 'noopener', class: 'ext', text })
        : h('span', { text });
    };
    const terms = link(links.termsLinkText, links.termsLinkUrl);
    const privacy = link(links.privacyStatementLinkText, links.privacyStatementLinkUrl);
    const before = new Map((previous && previous.delegated ? previous.delegated : []).map((d) => [d.question.id, d.input.checked]));

    card.delegated = questions.map((question, i) => {
      const input = h('input', {
        type: 'checkbox',
        id: `req-${view.id}-dc-${i}`,
        'data-testid': `delegated-${question.id}`,
        required: Boolean(question.required),
        onchange: () => syncApprove(card),
      });
      input.checked = Boolean(before.get(question.id));
      return { question, input };
    });

    return h(
      'fieldset',
      { class: 'delegated', 'data-testid': 'delegated-consents', lang: dc.language || null },
      h('legend', { text: dc.heading || `${view.sales_unit_name} asks` }),
      dc.text ? h('p', { class: 'delegated-text', text: dc.text }) : null,
      dc.termsDescription || terms || privacy
        ? h(
          'p',
          { class: 'delegated-terms' },
          dc.termsDescription ? h('span', { text: `${dc.termsDescription} ` }) : null,
          terms,
          terms && privacy ? h('span', { class: 'sep', 'aria-hidden': 'true', text: ' · ' }) : null,
          privacy,
        )
        : null,
      card.delegated.map(({ question, input }) =>
        h(
          'label',
          { class: 'check', for: input.id },
          input,
          h(
            'span',
            null,
            h('span', { text: question.textDisplayedToUser || question.id }),
            question.required ? h('span', { class: 'required', text: ' (required)' }) : null,
          ),
        ),
      ),
    );
  }

  /** Whether every required question of the sales unit is ticked. */
  function requiredAnswered(card) {
    return (card.delegated || []).every(({ question, input }) => !question.required || input.checked);
  }

  /** Enables the approve button(s) only when the required questions are ticked. */
  function syncApprove(card) {
    const ready = requiredAnswered(card);
    for (const button of card.approvers) button.disabled = card.busy || card.expired || !ready;
    if (card.approveHint) card.approveHint.hidden = ready;
  }

  function buildCard(view, deadline, previous) {
    const id = view.id;
    const name = view.sales_unit_name;
    const merchant = isMerchantInitiated(view);
    const card = { view, deadline, busy: false, expired: false, el: null, controls: [], approvers: [], delegated: null, approveHint: null };
    const titleId = `req-${id}-title`;

    const timerText = h('span', { class: 'timer-value' });
    const timer = h('p', { class: 'timer', 'data-testid': 'time-left' }, timerText);
    card.timer = timer;
    card.timerText = timerText;

    // A merchant-initiated login has no browser to remember; one opened from a link is
    // not remembered (nothing shows the browser is on this phone).
    let remember = null;
    if (!merchant && !view.opened_from_link) {
      remember = h('input', { type: 'checkbox', id: `req-${id}-remember`, 'data-testid': 'remember' });
      if (previous && previous.remember) remember.checked = previous.remember.checked;
    }
    card.remember = remember;

    let consentBox = null;
    if (view.consent_in_app) {
      const consent = h('input', { type: 'checkbox', id: `req-${id}-consent`, 'data-testid': 'consent', 'aria-describedby': `req-${id}-consent-hint` });
      if (previous && previous.consent) consent.checked = previous.consent.checked;
      card.consent = consent;
      consentBox = h(
        'fieldset',
        { class: 'consent-box' },
        h('legend', { text: `${name} wants to see` }),
        scopeList(view.consent_scopes || [], `What ${name} wants to see`),
        h('label', { class: 'check', for: consent.id }, consent, h('span', { text: `Share this with ${name}` })),
        h('p', { class: 'hint', id: `req-${id}-consent-hint`, text: 'If you do not share, the login is cancelled.' }),
      );
    }

    const questions = delegatedQuestions(view);
    const delegated = questions && questions.length ? delegatedBox(card, questions, previous) : null;
    const hintId = `req-${id}-approve-hint`;
    if (card.delegated && card.delegated.some((d) => d.question.required)) {
      card.approveHint = h('p', { class: 'approve-hint', id: hintId, 'data-testid': 'approve-hint', text: 'Tick the required boxes to approve.' });
    }
    const described = card.approveHint ? hintId : null;

    let answer;
    if (Array.isArray(view.choices)) {
      const promptId = `req-${id}-prompt`;
      const buttons = view.choices.map((n) =>
        h('button', { type: 'button', class: 'choice', 'data-testid': 'choice', 'aria-describedby': described, onclick: () => act(card, 'approve', n) }, String(n)),
      );
      card.controls.push(...buttons);
      card.approvers.push(...buttons);
      answer = [
        h('p', { class: 'prompt', id: promptId, text: 'Pick the number shown in the browser' }),
        h('div', { class: 'choices', role: 'group', 'aria-labelledby': promptId }, buttons),
      ];
    } else {
      const approve = h('button', { type: 'button', class: 'button', 'data-testid': 'approve', 'aria-describedby': described, onclick: () => act(card, 'approve', null) }, 'Approve');
      card.controls.push(approve);
      card.approvers.push(approve);
      answer = [approve];
    }
    const reject = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'reject', onclick: () => act(card, 'reject', null) }, 'Reject');
    card.controls.push(reject);
    const outcomes = testOutcomes(card, view);
    if (remember) card.controls.push(remember);
    if (card.consent) card.controls.push(card.consent);
    if (card.delegated) card.controls.push(...card.delegated.map((d) => d.input));

    const scopes = view.scopes || [];
    card.el = h(
      'article',
      {
        class: merchant ? 'request merchant' : 'request',
        'data-testid': 'request',
        'data-id': id,
        'data-kind': view.kind || null,
        'aria-labelledby': titleId,
      },
      h(
        'div',
        { class: 'request-head' },
        h(
          'div',
          null,
          merchant
            ? h('p', { class: 'eyebrow kind', 'data-testid': 'request-kind' }, h('span', { class: 'shop-icon', 'aria-hidden': 'true' }), 'Login at the shop')
            : h('p', { class: 'eyebrow', text: 'Log in to' }),
          h('h3', { id: titleId, class: 'request-title', 'data-testid': 'sales-unit', text: name }),
        ),
        timer,
      ),
      merchant ? h('p', { class: 'kind-note', text: 'Merchant-initiated: the shop asked for this login, not a browser.' }) : null,
      view.opened_from_link
        ? h('p', { class: 'link-warning', role: 'note', 'data-testid': 'link-warning', text: `Only approve if you started this login on this phone, just now${view.started_at ? ` (started ${startedAgo(view.started_at)})` : ''}. Never approve a link someone sent you.` })
        : null,
      view.binding_message ? bindingBox(view) : null,
      // When the consent box lists exactly what is asked for, it says it once.
      consentBox && sameScopes(scopes, view.consent_scopes || [])
        ? null
        : scopes.length
          ? h('div', { class: 'asks' }, h('p', { class: 'label', text: 'Asks for' }), scopeList(scopes, 'Asks for'))
          : h('p', { class: 'muted', text: 'Asks you to confirm that it is you.' }),
      consentBox,
      delegated,
      remember ? h('label', { class: 'check', for: remember.id }, remember, h('span', { text: 'Remember me in the browser' })) : null,
      card.approveHint,
      answer,
      reject,
      outcomes,
    );
    syncApprove(card);
    return card;
  }

  /** What each test-mode outcome is called on its button, and what the merchant sees. */
  const OUTCOMES = {
    rejected: ['Reject', 'access_denied'],
    wrong_challenge: ['Wrong number', 'wrong_challenge'],
    unknown_reject_reason: ['Unknown reject reason', 'unknown_reject_reason'],
    outdated_app_version: ['App too old', 'outdated_app_version'],
    old_app: ['App too old', 'old_app'],
    expire_now: ['Expire now', 'expired'],
  };

  /**
   * Test mode: one button per outcome the server says this request can have
   * (`test_outcomes`), each ending it as the merchant would see it from a real app.
   */
  function testOutcomes(card, view) {
    const names = Array.isArray(view.test_outcomes) ? view.test_outcomes : [];
    if (names.length === 0) return null;
    const legendId = `req-${view.id}-outcomes`;
    const buttons = names.map((name) => {
      const [label, code] = OUTCOMES[name] || [name, name];
      const button = h(
        'button',
        { type: 'button', class: 'button secondary small outcome', 'data-testid': `outcome-${name}`, 'data-outcome': name, onclick: () => act(card, 'outcome', null, name) },
        h('span', { text: label }),
        h('code', { text: code }),
      );
      return button;
    });
    card.controls.push(...buttons);
    return h(
      'fieldset',
      { class: 'test-outcomes', 'data-testid': 'test-outcomes', 'aria-describedby': `${legendId}-hint` },
      h('legend', { id: legendId, text: 'Test outcomes' }),
      h('p', { class: 'hint', id: `${legendId}-hint`, text: 'End this login the way the shop must be able to handle.' }),
      h('div', { class: 'outcome-buttons' }, buttons),
    );
  }

  function setBusy(card, busy) {
    card.busy = busy;
    if (busy) card.el.setAttribute('aria-busy', 'true');
    else card.el.removeAttribute('aria-busy');
    for (const control of card.controls) control.disabled = busy || card.expired;
    syncApprove(card);
  }

  function updateTimer(card) {
    const secs = Math.ceil((card.deadline - Date.now()) / 1000);
    card.timerText.textContent = secs > 0 ? `${formatLeft(secs)} left` : 'Expired';
    card.timer.classList.toggle('soon', secs > 0 && secs <= 30);
    if (secs <= 0 && !card.expired) {
      card.expired = true;
      card.el.classList.add('expired');
      setBusy(card, card.busy);
      refreshRequests();
    }
  }

  function tick() {
    for (const card of state.cards.values()) updateTimer(card);
  }

  function safeToOpen(url) {
    try {
      const protocol = new URL(url, window.location.href).protocol;
      return !['javascript:', 'data:', 'vbscript:', 'blob:'].includes(protocol);
    } catch {
      return false;
    }
  }

  async function act(card, kind, challenge, outcome) {
    if (card.busy || card.expired) return;
    if (kind === 'approve' && !requiredAnswered(card)) return;
    const session = state.session;
    const view = card.view;
    const merchant = isMerchantInitiated(view);
    const path = `/login-requests/${encodeURIComponent(view.id)}/${kind}`;
    setBusy(card, true);
    info(kind === 'reject' ? 'Rejecting…' : kind === 'outcome' ? 'Ending the login…' : 'Confirming…');
    try {
      if (kind === 'outcome') {
        const answer = await api('POST', path, { outcome });
        if (session !== state.session) return;
        const what = answer && answer.status === 'expired' ? 'Expired now' : `Ended with ${answer && answer.error}`;
        if (answer && answer.next === 'open_url' && answer.url && safeToOpen(answer.url)) {
          const link = h('a', { href: answer.url, 'data-testid': 'open-url', class: 'open-url', text: answer.url });
          ok(`${what}. Opening `, link, '…');
          window.setTimeout(() => window.location.assign(answer.url), OPEN_URL_DELAY_MS);
        } else {
          ok(merchant ? `${what}. The shop learns it when it asks.` : `${what}. The browser shows it.`);
        }
      } else if (kind === 'reject') {
        const answer = await api('POST', path, {});
        if (session !== state.session) return;
        if (answer && answer.next === 'open_url' && answer.url && safeToOpen(answer.url)) {
          const link = h('a', { href: answer.url, 'data-testid': 'open-url', class: 'open-url', text: answer.url });
          ok('Rejected. Opening ', link, '…');
          window.setTimeout(() => window.location.assign(answer.url), OPEN_URL_DELAY_MS);
        } else {
          ok(merchant ? 'Rejected. The login was cancelled and the shop has been told.' : 'Rejected. The login was cancelled.');
        }
      } else {
        const body = { remember_browser: Boolean(card.remember && card.remember.checked) };
        if (challenge != null) body.challenge = challenge;
        if (view.consent_in_app) body.consent = card.consent.checked;
        if (card.delegated) {
          body.delegated_consents = card.delegated.map(({ question, input }) => ({ id: question.id, accepted: input.checked }));
        }
        const answer = await api('POST', path, body);
        if (session !== state.session) return;
        if (view.consent_in_app && !body.consent && answer && answer.next === 'open_url' && answer.url && safeToOpen(answer.url)) {
          const link = h('a', { href: answer.url, 'data-testid': 'open-url', class: 'open-url', text: answer.url });
          ok('Nothing was shared: the login was cancelled. Opening ', link, '…');
          window.setTimeout(() => window.location.assign(answer.url), OPEN_URL_DELAY_MS);
        } else if (view.consent_in_app && !body.consent) {
          ok(merchant
            ? 'Nothing was shared: the login was cancelled. The shop has been told.'
            : 'Nothing was shared: the login was cancelled. Go back to the browser.');
        } else if (answer && answer.next === 'open_url' && answer.url && safeToOpen(answer.url)) {
          const link = h('a', { href: answer.url, 'data-testid': 'open-url', class: 'open-url', text: answer.url });
          ok('Confirmed. Opening ', link, '…');
          window.setTimeout(() => window.location.assign(answer.url), OPEN_URL_DELAY_MS);
        } else if ((answer && answer.next === 'done') || merchant) {
          ok('Confirmed. The shop has been told.');
        } else {
          ok('Confirmed. Go back to the browser.');
        }
      }
    } catch (error) {
      if (session !== state.session) return;
      fail(errorText(error));
    } finally {
      if (session === state.session) {
        setBusy(card, false);
        const hadFocus = card.el.contains(document.activeElement);
        await refreshRequests();
        if (hadFocus && !card.el.isConnected && state.ui) {
          document.getElementById('requests-title')?.focus();
        }
      }
    }
  }

  // ---------------------------------------------------------------- server-sent events

  /** Reads `GET /events` with fetch (EventSource cannot send the Bearer header); reconnects. */
  async function runEvents(session) {
    const phone = state.user.phone_number;
    while (session === state.session) {
      const controller = new AbortController();
      state.abort = controller;
      // The server sends a keep-alive comment every 15 s; a silent stream is a dead one.
      let lastData = Date.now();
      let stale = false;
      const watchdog = window.setInterval(() => {
        if (Date.now() - lastData > STALE_STREAM_MS) {
          stale = true;
          controller.abort();
        }
      }, 5000);
      try {
        const token = await deviceToken(phone);
        const response = await fetch(`${API}/events`, {
          headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
          cache: 'no-store',
          credentials: 'omit',
          signal: controller.signal,
        });
        if (response.status === 401) {
          forgetToken(phone, token);
        } else if (response.ok && response.body) {
          await readEvents(response.body, () => { lastData = Date.now(); }, (event, data) => {
            if (session !== state.session) return;
            if (event === 'ready') setLive(true);
            if (event === 'ready' || event === 'login_request') {
              let payload = null;
              try {
                payload = JSON.parse(data);
              } catch {
                payload = null;
              }
              if (payload && payload.type === 'closed' && payload.id && state.focusId === payload.id) state.focusId = null;
              refreshRequests();
            }
          });
        }
      } catch (error) {
        if ((controller.signal.aborted && !stale) || session !== state.session) return;
        if (error instanceof ApiError && error.code === 'invalid_user') return;
      } finally {
        window.clearInterval(watchdog);
      }
      if (session !== state.session) return;
      setLive(false);
      await sleep(RECONNECT_MS);
    }
  }

  /** A small server-sent events parser (WHATWG "event stream interpretation"). */
  async function readEvents(body, onData, dispatch) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let event = '';
    let data = [];
    const line = (text) => {
      if (text === '') {
        if (data.length) dispatch(event || 'message', data.join('\n'));
        event = '';
        data = [];
        return;
      }
      if (text.startsWith(':')) return;
      const colon = text.indexOf(':');
      const field = colon < 0 ? text : text.slice(0, colon);
      let value = colon < 0 ? '' : text.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    };
    for (;;) {
      const { value, done } = await reader.read();
      onData();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        if (!match) break;
        // A lone CR at the very end may be the first half of CRLF: wait for more.
        if (match[0] === '\r' && match.index === buffer.length - 1 && !done) break;
        line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
      if (done) return;
    }
  }

  function setLive(on) {
    const ui = state.ui;
    if (!ui) return;
    ui.live.textContent = on ? 'Live' : 'Reconnecting…';
    ui.live.classList.toggle('on', on);
  }

  // ---------------------------------------------------------------- consents, browsers, profile

  async function loadPanel(id, title, intro, load) {
    const ui = state.ui;
    const session = state.session;
    const panel = ui.panels[id];
    const body = h('div', { class: 'panel-body', 'aria-busy': 'true' }, h('p', { class: 'muted', text: 'Loading…' }));
    if (!panel.firstChild) panel.append(h('div', { class: 'panel-head' }, h('h2', { id: `${id}-title`, tabindex: '-1', text: title })), h('p', { class: 'muted intro', text: intro }), body);
    else panel.lastChild.setAttribute('aria-busy', 'true');
    const target = panel.lastChild;
    try {
      const content = await load();
      if (session !== state.session) return;
      target.replaceChildren(content);
    } catch (error) {
      if (session !== state.session) return;
      target.replaceChildren(h('p', { class: 'note error', text: errorText(error) }));
    }
    target.removeAttribute('aria-busy');
  }

  function emptyNote(text) {
    return h('div', { class: 'empty' }, h('span', { class: 'empty-icon', 'aria-hidden': 'true' }), h('p', { text }));
  }

  function focusHeading(id) {
    document.getElementById(`${id}-title`)?.focus();
  }

  function loadConsents() {
    return loadPanel('consents', 'Consents', 'Services you share data with. Revoke, and they ask you again next time.', async () => {
      const data = await api('GET', '/consents');
      const consents = (data && data.consents) || [];
      if (!consents.length) return emptyNote('You do not share data with any service yet.');
      return h(
        'ul',
        { class: 'items' },
        consents.map((c) =>
          h(
            'li',
            { class: 'item', 'data-testid': 'consent-item', 'data-client-id': c.client_id },
            h(
              'div',
              { class: 'item-head' },
              h('h3', { text: c.sales_unit_name }),
              h(
                'button',
                {
                  type: 'button',
                  class: 'button secondary small',
                  'data-testid': 'revoke',
                  'aria-label': `Revoke consent for ${c.sales_unit_name}`,
                  onclick: (event) => revoke(c, event.currentTarget),
                },
                'Revoke',
              ),
            ),
            scopeList(c.scopes || [], `Shared with ${c.sales_unit_name}`),
            h('p', { class: 'meta' }, 'Shared since ', timeEl(c.granted_at)),
          ),
        ),
      );
    });
  }

  async function revoke(consent, button) {
    button.disabled = true;
    info('Revoking…');
    try {
      await api('DELETE', `/consents/${encodeURIComponent(consent.client_id)}`);
      ok(`Revoked. ${consent.sales_unit_name} will ask you again next time.`);
    } catch (error) {
      fail(errorText(error));
    }
    await loadConsents();
    focusHeading('consents');
  }

  function loadBrowsers() {
    return loadPanel('browsers', 'Browsers', 'Browsers that remember you and log you in without the app.', async () => {
      const data = await api('GET', '/browsers');
      const browsers = (data && data.browsers) || [];
      if (!browsers.length) return emptyNote('No browser remembers you. Tick “Remember me in the browser” when you confirm a login.');
      return h(
        'ul',
        { class: 'items' },
        browsers.map((b) => {
          const label = b.label || 'Browser';
          return h(
            'li',
            { class: 'item', 'data-testid': 'browser-item', 'data-id': b.id },
            h(
              'div',
              { class: 'item-head' },
              h('h3', { text: label }),
              h(
                'button',
                {
                  type: 'button',
                  class: 'button secondary small',
                  'data-testid': 'forget',
                  'aria-label': `Log out ${label}`,
                  onclick: (event) => forget(b, label, event.currentTarget),
                },
                'Log out',
              ),
            ),
            h(
              'dl',
              { class: 'facts' },
              h('dt', { text: 'Remembered' }), h('dd', null, timeEl(b.created_at)),
              h('dt', { text: 'Last used' }), h('dd', null, timeEl(b.last_used_at)),
              h('dt', { text: 'Until' }), h('dd', null, timeEl(b.expires_at)),
            ),
          );
        }),
      );
    });
  }

  async function forget(browser, label, button) {
    button.disabled = true;
    info('Logging out…');
    try {
      await api('DELETE', `/browsers/${encodeURIComponent(browser.id)}`);
      ok(`Logged out. ${label} needs the app again next time.`);
    } catch (error) {
      fail(errorText(error));
    }
    await loadBrowsers();
    focusHeading('browsers');
  }

  function loadProfile() {
    return loadPanel('profile', 'Profile', 'What Nod knows about you, and may share when you say yes.', async () => {
      const p = (await api('GET', '/profile')) || {};
      const row = (term, ...value) => [h('dt', { text: term }), h('dd', null, ...value)];
      const text = (v) => (v == null || v === '' ? '—' : String(v));
      const addresses = Array.isArray(p.addresses) ? p.addresses : [];
      const addressList = addresses.length
        ? h(
          'ul',
          { class: 'addresses' },
          addresses.map((a, i) =>
            h(
              'li',
              null,
              h('span', { class: 'tag', text: `${sentence(a.address_type || 'address').replace(/\.$/, '')}${i === 0 ? ' · default' : ''}` }),
              h('span', { class: 'address-line', text: a.street_address }),
              h('span', { class: 'address-line', text: `${a.postal_code} ${a.region}` }),
              h('span', { class: 'address-line', text: countryName(a.country) }),
            ),
          ),
        )
        : '—';
      return h(
        'dl',
        { class: 'profile', 'data-testid': 'profile' },
        row('Name', text(p.name)),
        row('Phone', p.phone_number ? phoneText(p.phone_number) : '—'),
        row('Email', text(p.email)),
        row('Birth date', text(p.birthdate)),
        row('National identity number', text(p.nin)),
        row(addresses.length > 1 ? 'Addresses' : 'Address', addressList),
      );
    });
  }

  // ---------------------------------------------------------------- start

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.user) refreshRequests();
  });

  const user = savedUser();
  if (user) {
    enterMain(user);
  } else {
    if (!state.ticket && window.location.pathname !== '/test-app/') window.history.replaceState(null, '', '/test-app/');
    showStart();
  }
})();
