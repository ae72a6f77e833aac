// The console's shell: hash router, nav, view-as banner, tenant switcher, language.
// Signed in, the console speaks the person's own language (their profile's, changed on
// their own page, which also sets their phones'); before that, the login page's choice
// or the browser's.
import { api, setCSRF, ApiError } from './api.js';
import { t, setLanguage, pick, languages } from './i18n.js';
import { h, clear, select, toast } from './ui.js';
import routes from './routes.js';
import { takeToken } from './views/setpassword.js';

const main = document.getElementById('main');
const top = document.getElementById('top');
const banner = document.getElementById('banner');

// ctx is handed to every view's render(el, params, ctx).
const ctx = {
  me: null,
  // tenant is the tenant being worked on: the user's own, or one they manage.
  tenant: '',
  can(perm) {
    if (!perm) return true;
    return !!(ctx.me && (ctx.me.permissions || []).some((p) => p.name === perm));
  },
  navigate(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  },
  // signedIn is called by the login view with the login answer.
  async signedIn(answer) {
    setCSRF(answer.csrf_token);
    await loadMe();
    ctx.navigate(landing());
  },
  // signOut ends the session (or, viewing as someone, returns to one's own).
  async signOut() {
    let ans = null;
    try { ans = await api('POST', '/auth/logout'); } catch (err) { if (!(err instanceof ApiError)) throw err; }
    if (ans && ans.restored) {
      setCSRF(ans.csrf_token);
      sessionStorage.removeItem('dialtone.tenant');
      reloadAtStart();
      return;
    }
    ctx.me = null;
    setCSRF('');
    sessionStorage.removeItem('dialtone.tenant');
    ctx.navigate('#/login');
  },
  // viewAs starts a view-as session of user id (in the current tenant) and reloads.
  async viewAs(userId) {
    await api('POST', '/auth/view-as', { tenant: ctx.tenant, user_id: userId, session: 'cookie' });
    sessionStorage.removeItem('dialtone.tenant');
    reloadAtStart();
  },
  reloadMe: () => loadMe(),
  render: () => render(),
};

// reloadAtStart loads the console afresh at its start page (after the session changed
// identity: view-as, or back from it).
function reloadAtStart() {
  history.replaceState(null, '', '/');
  location.reload();
}

// landing is where a signed-in person starts: the user list for those who manage
// users, their own page for everyone else.
function landing() { return ctx.can('users.manage') ? '#/users' : '#/me'; }

async function loadMe() {
  try {
    ctx.me = await api('GET', '/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { ctx.me = null; setCSRF(''); return; }
    throw err;
  }
  setCSRF(ctx.me.csrf_token);
  const saved = sessionStorage.getItem('dialtone.tenant');
  ctx.tenant = saved && (ctx.me.managed_tenants || []).includes(saved) ? saved : ctx.me.tenant;
  if (languages.includes(ctx.me.language)) await setLanguage(ctx.me.language);
}

// match finds the view of a hash: route patterns like '#/users/{id}/{tab}'.
function match(hash) {
  const segs = hash.replace(/^#/, '').split('/');
  for (const view of routes) {
    const pat = view.route.replace(/^#/, '').split('/');
    if (pat.length !== segs.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pat.length; i++) {
      if (pat[i].startsWith('{')) {
        if (!segs[i]) { ok = false; break; }
        params[pat[i].slice(1, -1)] = decodeURIComponent(segs[i]);
      } else if (pat[i] !== segs[i]) { ok = false; break; }
    }
    if (ok) return { view, params };
  }
  return null;
}

function renderTop(current) {
  clear(top);
  if (!ctx.me) { top.hidden = true; return; }
  top.hidden = false;
  const items = routes.filter((v) => v.nav && !v.public && ctx.can(v.permission));
  const nav = h('nav', { 'aria-label': t('nav.label') },
    h('ul', {}, items.map((v) => h('li', {},
      h('a', { href: v.route, 'aria-current': current === v ? 'page' : null }, t(v.nav))))));
  const tools = h('div', { class: 'tools' });
  const managed = ctx.me.managed_tenants || [];
  if (managed.length) {
    const opts = [ctx.me.tenant, ...managed].map((s) => ({ value: s, label: s }));
    const sel = select({ id: 'tenant-switch', onchange: (e) => {
      ctx.tenant = e.target.value;
      sessionStorage.setItem('dialtone.tenant', ctx.tenant);
      render();
    } }, opts, ctx.tenant);
    tools.append(h('label', { for: 'tenant-switch' }, t('nav.tenant')), sel);
  }
  tools.append(h('span', { class: 'who' }, ctx.me.first_name + ' ' + ctx.me.last_name));
  tools.append(h('button', { type: 'button', id: 'logout', onclick: () => ctx.signOut() }, t('nav.logout')));
  top.append(h('span', { class: 'brand' }, 'Dialtone'), nav, tools);
}

function renderBanner() {
  clear(banner);
  const by = ctx.me && ctx.me.view_as_by;
  banner.hidden = !by;
  if (!by) return;
  const name = `${ctx.me.first_name} ${ctx.me.last_name}`.trim() || ctx.me.email;
  banner.append(h('span', {}, t('viewas.banner', { name })),
    h('button', { type: 'button', class: 'link', id: 'viewas-return', onclick: () => ctx.signOut() }, t('viewas.return')));
}

let renders = 0;
async function render() {
  const mine = ++renders;
  delete main.dataset.route; // set again when the view has rendered (tests wait on it)
  const hash = location.hash || '';
  const found = match(hash);
  if (!ctx.me && !(found && found.view.public)) {
    if (hash !== '#/login') { location.hash = '#/login'; return; }
  }
  if (ctx.me && (!found || hash === '#/login' || hash === '#/forgot-password' || hash === '' || hash === '#/')) {
    const to = landing();
    if (hash !== to) { location.hash = to; return; }
  }
  const target = match(location.hash);
  renderBanner();
  renderTop(target && target.view);
  clear(main);
  if (!target) {
    main.append(h('h1', {}, t('error.not_found')));
    main.dataset.route = 'not-found';
    return;
  }
  const { view, params } = target;
  if (!view.public && !ctx.can(view.permission)) {
    main.append(h('h1', {}, t('error.forbidden')));
    main.dataset.route = 'forbidden';
    return;
  }
  document.title = (view.nav ? t(view.nav) + ' · ' : '') + 'Dialtone';
  try {
    await view.render(main, params, ctx);
  } catch (err) {
    if (mine !== renders) return;
    if (err instanceof ApiError && err.status === 401) return;
    clear(main);
    main.append(h('h1', {}, t('error.title')), h('p', { role: 'alert' }, err.message || String(err)));
  }
  if (mine !== renders) return;
  if (document.activeElement === document.body) main.focus({ preventScroll: true });
  main.dataset.route = view.route;
}

document.addEventListener('dialtone:unauthorized', () => {
  if (!ctx.me) return;
  ctx.me = null;
  setCSRF('');
  toast(t('error.session_ended'), 'error');
  ctx.navigate('#/login');
});

async function start() {
  takeToken(); // /set-password?token=… (the mailed link) becomes #/set-password
  await setLanguage(pick());
  await loadMe();
  window.addEventListener('hashchange', render);
  await render();
  document.body.dataset.ready = 'true'; // tests wait on this
}

start().catch((err) => {
  clear(main);
  main.append(h('p', { role: 'alert' }, String(err.message || err)));
});
