// The console's entry point: session, login, hash routing, live refresh.
import * as api from './api.js';
import { h, clear, errorBox } from './dom.js';
import { branchesPage } from './branches.js';
import { branchPage } from './branch.js';
import { sqlPage } from './sql.js';
import { diffPage } from './diff.js';
import { settingsPage } from './settings.js';

const main = document.getElementById('main');
let stopPage = null;

/** What a page gets: where to draw, and a way to refresh itself every few seconds while shown. */
function context() {
  const timers = [];
  return {
    main,
    every(ms, fn) { timers.push(setInterval(fn, ms)); },
    stop() { timers.forEach(clearInterval); },
  };
}

function parseRoute() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query || '') };
}

async function route() {
  if (stopPage) stopPage();
  const ctx = context();
  stopPage = ctx.stop;
  const { parts, params } = parseRoute();
  const page = parts[0] || 'branches';
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.nav === page
    || (page === 'branch' || page === 'diff') && a.dataset.nav === 'branches'));
  clear(main);
  try {
    if (page === 'branch' && parts[1]) await branchPage(ctx, parts.slice(1).join('/'));
    else if (page === 'diff' && parts[1]) await diffPage(ctx, parts.slice(1).join('/'), params);
    else if (page === 'sql') await sqlPage(ctx, params);
    else if (page === 'settings') await settingsPage(ctx);
    else await branchesPage(ctx, params);
  } catch (e) {
    clear(main, errorBox(e));
  }
  main.focus({ preventScroll: true });
}

function showLogin(message) {
  if (stopPage) stopPage();
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  const input = h('input#token', { type: 'password', autocomplete: 'off', 'aria-describedby': 'token-hint', required: true });
  const problem = h('div');
  const form = h('form.panel', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        start(await api.login(input.value));
      } catch (e) {
        clear(problem, errorBox(e));
      }
    },
  },
  h('h1', 'Log in to pgbranch'),
  h('p.muted', 'This console is served by your pgbranch server on this machine only.'),
  message ? h('div.callout.warn', message) : null,
  h('label.field', { for: 'token' }, 'API token', input,
    h('span.hint#token-hint', 'The content of api-token in the data directory, or open the link that ',
      h('code', 'pgbranch console'), ' prints.')),
  problem,
  h('button.primary', { type: 'submit' }, 'Log in'));
  clear(main, h('div.login', form));
  input.focus();
}

function start(session) {
  api.configure(session.csrf, () => showLogin('Your session ended: log in again.'));
  document.getElementById('nav').hidden = false;
  const logout = document.getElementById('logout');
  logout.hidden = false;
  logout.onclick = async () => { await api.logout(); showLogin('Logged out.'); };
  window.onhashchange = route;
  route();
}

const existing = await api.session();
if (existing) start(existing); else showLogin();
