// A user's page, #/users/{id}/{tab}: Profile, Access rights, Managed accounts and
// Assignments, with the ⋮ menu (view as, delete). Every rule is the API's: what the
// page disables it disables because /me says the admin lacks the permission, and the
// API refuses the same.
import { api, apiUpload, ApiError } from '../api.js';
import { t, fmtDate } from '../i18n.js';
import { h, clear, field, formError, showErrors, clearErrors, select, toast, confirmDialog, menu, uid } from '../ui.js';
import { picker } from '../picker.js';
import { tenantPath, departments, roleLabel } from './users.js';

const tabs = [
  ['profile', 'users.tab_profile'],
  ['access', 'users.tab_access'],
  ['managed', 'users.tab_managed'],
  ['assignments', 'users.tab_assignments'],
];

export function languageOptions() {
  return [{ value: '', label: t('users.language_default') },
    ...['en', 'nl', 'de', 'fr', 'es', 'it'].map((l) => ({ value: l, label: t('language.' + l) }))];
}

// The roles in rank order, in their groups (ClearVox's None, Users and Admins).
const groups = [
  ['none', 'users.group_none', ['none']],
  ['users', 'users.group_users', ['user', 'receptionist', 'department_admin', 'manager', 'owner']],
  ['admins', 'users.group_admins', ['system_admin', 'system_owner']],
];
const rank = ['none', 'user', 'receptionist', 'department_admin', 'manager', 'owner', 'system_admin', 'system_owner'];

let openapi = null;
// permissionNames lists every permission the API knows, from its own OpenAPI document.
async function permissionNames() {
  if (!openapi) openapi = await api('GET', '/openapi.json');
  return openapi.components.schemas.Permission.enum;
}

function fullName(u) { return `${u.first_name} ${u.last_name}`.trim(); }

export default {
  route: '#/users/{id}/{tab}',
  nav: null,
  permission: 'users.manage',
  async render(el, params, ctx) {
    const path = tenantPath(ctx, '/users/' + encodeURIComponent(params.id));
    let user = await api('GET', path);
    const tab = tabs.some(([k]) => k === params.tab) ? params.tab : 'profile';
    const isSelf = user.id === ctx.me.id && user.tenant === ctx.me.tenant;

    const items = [];
    if (ctx.can('users.view_as') && !isSelf && !ctx.me.view_as_by) {
      items.push({ label: t('users.view_as'), onSelect: () => ctx.viewAs(user.id).catch((err) => toast(err.message, 'error')) });
    }
    if (!isSelf) items.push({ label: t('users.delete'), danger: true, onSelect: () => deleteUser(ctx, user, path) });
    const heading = h('h1', { id: 'user-name' }, fullName(user));
    el.append(h('div', { class: 'page-head' },
      h('a', { href: '#/users', class: 'back' }, '← ', t('users.title')),
      heading,
      items.length ? menu(t('common.more'), items) : null));

    const tablist = h('div', { role: 'tablist', class: 'tabs', 'aria-label': t('users.tabs') });
    const panel = h('section', { role: 'tabpanel', id: 'user-panel', class: 'tabpanel' });
    for (const [key, label] of tabs) {
      const a = h('a', { role: 'tab', id: 'tab-' + key, href: `#/users/${encodeURIComponent(user.id)}/${key}`,
        'aria-selected': key === tab ? 'true' : 'false', 'aria-controls': panel.id, tabindex: key === tab ? '0' : '-1' }, t(label));
      tablist.append(a);
    }
    tablist.addEventListener('keydown', (e) => {
      const all = [...tablist.querySelectorAll('[role="tab"]')];
      const i = all.indexOf(document.activeElement);
      if (i < 0) return;
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        all[(i + (e.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length].focus();
      }
    });
    panel.setAttribute('aria-labelledby', 'tab-' + tab);
    el.append(tablist, panel);

    const setUser = (u) => { user = u; heading.textContent = fullName(u); };
    const renderers = { profile, access, managed, assignments };
    await renderers[tab](panel, ctx, user, path, setUser);
  },
};

// ---- Profile ----

async function profile(panel, ctx, user, path, setUser) {
  const depts = await departments(ctx);
  const inp = (name, type, value) => h('input', { name, type, id: 'u-' + name, value: value || '', autocomplete: 'off' });
  const form = h('form', { id: 'user-profile', class: 'card', novalidate: true },
    h('div', { class: 'two' },
      field('users.first_name', inp('first_name', 'text', user.first_name)),
      field('users.last_name', inp('last_name', 'text', user.last_name))),
    field('users.email', inp('email', 'email', user.email)),
    h('div', { class: 'two' },
      field('users.language', select({ name: 'language', id: 'u-language' }, languageOptions(), user.language || '')),
      field('users.department', select({ name: 'department_id', id: 'u-department_id' },
        [{ value: '', label: t('users.no_department') }, ...depts.map((d) => ({ value: d.id, label: d.name }))], user.department_id || ''))),
    field('users.mobile', inp('mobile', 'tel', user.mobile)),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = {};
    for (const k of ['first_name', 'last_name', 'email', 'language', 'department_id', 'mobile']) {
      const v = form[k].value.trim();
      if (v !== (user[k] || '')) body[k] = v;
    }
    if (!Object.keys(body).length) { toast(t('users.nothing_changed')); return; }
    try {
      const u = await api('PATCH', path, body);
      setUser(u);
      user = u;
      toast(t('users.saved'), 'ok');
    } catch (err) { showErrors(form, err); }
  });
  panel.append(form, photoCard(ctx, user, path), pinCard(user, path));
}

// photoCard shows the photo, takes a new one (cropped to a square in a canvas first) and
// removes it.
function photoCard(ctx, user, path) {
  const img = h('img', { class: 'photo', alt: t('users.photo_of', { name: fullName(user) }), width: '128', height: '128' });
  const none = h('p', { class: 'hint' }, t('users.no_photo'));
  const file = h('input', { type: 'file', id: 'u-photo', name: 'photo', accept: 'image/jpeg,image/png' });
  const removeBtn = h('button', { type: 'button', id: 'u-photo-remove' }, t('users.photo_remove'));
  const cropArea = h('div', { class: 'crop', hidden: true });
  const err = h('div', { class: 'error', id: 'u-photo-err', role: 'alert' });
  file.setAttribute('aria-describedby', err.id);
  let has = user.photo;
  async function show() {
    img.hidden = !has; none.hidden = has; removeBtn.hidden = !has;
    if (!has) return;
    const r = await fetch('/api/v1' + path + '/photo', { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) return;
    if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(await r.blob());
  }
  file.addEventListener('change', () => {
    err.textContent = '';
    const f = file.files[0];
    if (!f) return;
    cropper(cropArea, f, async (blob) => {
      try {
        await apiUpload(path + '/photo', blob, null, { method: 'PUT', contentType: 'image/jpeg' });
        has = true;
        file.value = '';
        cropArea.hidden = true;
        await show();
        toast(t('users.photo_saved'), 'ok');
      } catch (e) { err.textContent = e.message; }
    }, () => { file.value = ''; cropArea.hidden = true; }, (msg) => { err.textContent = msg; });
  });
  removeBtn.addEventListener('click', async () => {
    try {
      await api('DELETE', path + '/photo');
      has = false;
      img.removeAttribute('src');
      await show();
    } catch (e) { err.textContent = e.message; }
  });
  show();
  return h('div', { class: 'card', id: 'user-photo' }, h('h2', {}, t('users.photo')),
    h('div', { class: 'photo-row' }, img, none),
    h('div', { class: 'field' }, h('label', { for: file.id }, t('users.photo_choose')), file, err),
    cropArea, h('div', { class: 'actions' }, removeBtn));
}

// cropper draws the chosen image into a square canvas; zoom and position are sliders
// (usable by keyboard) and the square is sent as a 512-pixel JPEG.
function cropper(area, file, onDone, onCancel, onError) {
  clear(area);
  area.hidden = false;
  const size = 256;
  const canvas = h('canvas', { width: String(size), height: String(size), class: 'crop-canvas', role: 'img', 'aria-label': t('users.crop_preview') });
  const zoom = h('input', { type: 'range', id: uid('zoom'), min: '1', max: '4', step: '0.05', value: '1' });
  const x = h('input', { type: 'range', id: uid('cx'), min: '0', max: '1', step: '0.01', value: '0.5' });
  const y = h('input', { type: 'range', id: uid('cy'), min: '0', max: '1', step: '0.01', value: '0.5' });
  const image = new Image();
  const url = URL.createObjectURL(file);
  function crop() {
    const side = Math.min(image.naturalWidth, image.naturalHeight) / Number(zoom.value);
    const sx = (image.naturalWidth - side) * Number(x.value);
    const sy = (image.naturalHeight - side) * Number(y.value);
    return { sx, sy, side };
  }
  function draw(c, px) {
    const { sx, sy, side } = crop();
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, px, px);
    g.drawImage(image, sx, sy, side, side, 0, 0, px, px);
  }
  image.addEventListener('load', () => draw(canvas, size));
  image.addEventListener('error', () => { URL.revokeObjectURL(url); area.hidden = true; onError(t('users.photo_unreadable')); });
  image.src = url;
  for (const s of [zoom, x, y]) s.addEventListener('input', () => draw(canvas, size));
  const save = h('button', { type: 'button', class: 'primary', id: 'u-photo-save', onclick: () => {
    const out = document.createElement('canvas');
    out.width = 512; out.height = 512;
    draw(out, 512);
    out.toBlob((blob) => { URL.revokeObjectURL(url); onDone(blob); }, 'image/jpeg', 0.9);
  } }, t('users.photo_save'));
  const cancel = h('button', { type: 'button', onclick: () => { URL.revokeObjectURL(url); onCancel(); } }, t('common.cancel'));
  area.append(canvas,
    h('div', { class: 'crop-controls' },
      h('div', { class: 'field' }, h('label', { for: zoom.id }, t('users.crop_zoom')), zoom),
      h('div', { class: 'field' }, h('label', { for: x.id }, t('users.crop_x')), x),
      h('div', { class: 'field' }, h('label', { for: y.id }, t('users.crop_y')), y),
      h('div', { class: 'actions' }, save, cancel)));
}

// pinCard sets a PIN, or has the API generate one and shows it once.
function pinCard(user, path) {
  const pin = h('input', { type: 'password', name: 'pin', id: 'u-pin', inputmode: 'numeric', autocomplete: 'new-password' });
  const shown = h('p', { id: 'u-pin-shown', role: 'status' });
  const form = h('form', { id: 'user-pin', class: 'card', novalidate: true },
    h('h2', {}, t('users.pin')),
    field('users.pin_new', pin, 'users.pin_hint'),
    formError(),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t('users.pin_set')),
      h('button', { type: 'button', id: 'u-pin-generate', onclick: async () => {
        clearErrors(form);
        try {
          const u = await api('PATCH', path, { reset_pin: true });
          clear(shown).append(t('users.pin_generated'), ' ', h('code', {}, u.pin), ' ', h('span', { class: 'hint' }, t('users.shown_once')));
        } catch (err) { showErrors(form, err); }
      } }, t('users.pin_generate'))),
    shown);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    clear(shown);
    try {
      await api('PATCH', path, { pin: pin.value });
      pin.value = '';
      toast(t('users.pin_saved'), 'ok');
    } catch (err) { showErrors(form, err); }
  });
  return form;
}

// ---- Access rights ----

async function access(panel, ctx, user, path, setUser) {
  const perms = await permissionNames();
  const myRank = rank.indexOf(ctx.me.role);
  const mayPromote = ctx.can('users.promote');
  const isSelf = user.id === ctx.me.id && user.tenant === ctx.me.tenant;

  // The group and the role.
  const roleForm = h('form', { id: 'user-role', class: 'card', novalidate: true });
  const fs = h('fieldset', { class: 'roles' }, h('legend', {}, t('users.group')));
  for (const [, labelKey, roles] of groups) {
    const sub = h('fieldset', { class: 'role-group' }, h('legend', {}, t(labelKey)));
    for (const r of roles) {
      const id = 'role-' + r;
      let reason = '';
      if (isSelf) reason = t('users.reason_self');
      else if (!mayPromote) reason = t('users.reason_promote');
      else if (rank.indexOf(r) > myRank) reason = t('users.reason_above');
      else if ((r === 'system_admin' || user.role === 'system_admin') && !ctx.can('roles.system_admin') && r !== user.role) reason = t('users.reason_system_admin');
      const radio = h('input', { type: 'radio', name: 'role', id, value: r, checked: user.role === r, disabled: !!reason && user.role !== r, title: reason || null });
      sub.append(h('div', { class: 'check' }, radio, h('label', { for: id, title: reason || null }, roleLabel(r),
        reason ? h('span', { class: 'visually-hidden' }, ' (' + reason + ')') : null)));
    }
    fs.append(sub);
  }
  roleForm.append(fs, h('div', { class: 'error', id: 'role-err' }), formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', disabled: isSelf }, t('users.role_save'))));
  roleForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(roleForm);
    const r = roleForm.querySelector('input[name="role"]:checked').value;
    if (r === user.role) { toast(t('users.nothing_changed')); return; }
    try {
      setUser(await api('PATCH', path, { role: r }));
      toast(t('users.saved'), 'ok');
      ctx.render();
    } catch (err) { showErrors(roleForm, err); }
  });

  // The advanced roles table: inherited (from the role) and extra permissions.
  const inherited = new Set((user.permissions || []).filter((p) => p.source === 'role').map((p) => p.name));
  const extra = new Set(user.extra_permissions || []);
  const tbody = h('tbody', {});
  for (const p of perms) {
    const inh = inherited.has(p);
    const inhBox = h('input', { type: 'checkbox', id: 'inh-' + p, checked: inh, disabled: true, class: 'inherited',
      'aria-label': t('users.perm_inherited_of', { perm: p }) });
    let reason = '';
    if (isSelf) reason = t('users.reason_self');
    else if (!mayPromote) reason = t('users.reason_promote');
    else if (!ctx.can(p)) reason = t('users.reason_not_held', { perm: p });
    const reasonId = 'why-' + p.replace(/\./g, '-');
    const box = h('input', { type: 'checkbox', name: 'extra', value: p, id: 'extra-' + p, checked: extra.has(p),
      disabled: !!reason, title: reason || null, 'aria-label': t('users.perm_extra_of', { perm: p }),
      'aria-describedby': reason ? reasonId : null });
    tbody.append(h('tr', { dataset: { perm: p } },
      h('th', { scope: 'row' }, h('code', {}, p), h('div', { class: 'hint' }, t('perm.' + p))),
      h('td', { class: inh ? 'inherited-cell' : '' }, inhBox),
      h('td', {}, box, reason ? h('span', { id: reasonId, class: 'visually-hidden' }, reason) : null)));
  }
  const permForm = h('form', { id: 'user-perms', class: 'card', novalidate: true },
    h('h2', {}, t('users.advanced')),
    h('p', { class: 'hint' }, t('users.advanced_hint')),
    h('div', { class: 'table-wrap' }, h('table', { id: 'perm-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('users.permission')),
        h('th', { scope: 'col' }, t('users.inherited')), h('th', { scope: 'col' }, t('users.extra')))),
      tbody)),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', disabled: isSelf || !mayPromote }, t('common.save'))));
  permForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(permForm);
    const next = [...permForm.querySelectorAll('input[name="extra"]:checked')].map((b) => b.value);
    try {
      setUser(await api('PATCH', path, { extra_permissions: next }));
      toast(t('users.saved'), 'ok');
      ctx.render();
    } catch (err) { showErrors(permForm, err); }
  });
  panel.append(roleForm, permForm);
}

// ---- Managed accounts ----

async function managed(panel, ctx, user, path, setUser) {
  const mine = await api('GET', '/tenants?limit=1000');
  const reach = (mine.items || []).map((x) => x.slug).filter((s) => s !== user.tenant);
  const current = new Set(user.managed_tenants || []);
  const all = [...new Set([...reach, ...current])].sort();
  const wide = ctx.can('users.manage') && ['system_admin', 'system_owner'].includes(ctx.me.role);
  const form = h('form', { id: 'user-managed', class: 'card', novalidate: true },
    h('p', { class: 'hint' }, t('users.managed_hint')));
  const list = h('fieldset', {}, h('legend', {}, t('users.managed_tenants')));
  if (!all.length) list.append(h('p', {}, t('users.managed_none')));
  for (const s of all) {
    const id = 'mt-' + s;
    const reason = !wide ? t('users.reason_managed') : (!reach.includes(s) ? t('users.reason_tenant', { tenant: s }) : '');
    list.append(h('div', { class: 'check' },
      h('input', { type: 'checkbox', id, name: 'managed_tenants', value: s, checked: current.has(s), disabled: !!reason, title: reason || null }),
      h('label', { for: id, title: reason || null }, s, reason ? h('span', { class: 'visually-hidden' }, ' (' + reason + ')') : null)));
  }
  form.append(list, formError(), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', disabled: !wide || !all.length }, t('common.save'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const next = [...form.querySelectorAll('input[name="managed_tenants"]:checked')].map((b) => b.value);
    try {
      setUser(await api('PATCH', path, { managed_tenants: next }));
      toast(t('users.saved'), 'ok');
    } catch (err) { showErrors(form, err); }
  });
  panel.append(form);
}

// ---- Assignments ----

async function assignments(panel, ctx, user, path, setUser) {
  const extPath = tenantPath(ctx, '/extensions?free=true&limit=100');
  const [free, mine, loose] = await Promise.all([
    api('GET', extPath),
    api('GET', tenantPath(ctx, '/phones?limit=1000&user_id=' + encodeURIComponent(user.id))),
    api('GET', tenantPath(ctx, '/phones?limit=200&unassigned=true')).catch((err) => {
      if (err instanceof ApiError && err.status === 403) return { items: [], next_cursor: '' };
      throw err;
    }),
  ]);
  let extCursor = free.next_cursor;
  const num = (n) => ({ number: n });
  const exts = picker({
    id: 'pick-ext', name: 'extensions', legendKey: 'users.internal_numbers', assignedKey: 'picker.assigned', availableKey: 'picker.available',
    assigned: (user.extensions || []).map(num), available: free.items.map((x) => num(x.number)),
    key: (x) => x.number, label: (x) => x.number, moreDone: !extCursor,
    more: async () => {
      const ans = await api('GET', extPath + '&cursor=' + encodeURIComponent(extCursor));
      extCursor = ans.next_cursor;
      return { items: ans.items.map((x) => num(x.number)), done: !extCursor };
    },
  });
  const dids = picker({
    id: 'pick-did', name: 'external_numbers', legendKey: 'users.external_numbers', assignedKey: 'picker.assigned', availableKey: 'picker.available',
    assigned: (user.external_numbers || []).map(num), available: [],
    key: (x) => x.number, label: (x) => x.number, addKey: 'users.did_add',
    parse: (s) => {
      const n = s.replace(/[\s().-]/g, '');
      if (!/^\+[1-9][0-9]{6,14}$/.test(n)) throw new Error(t('users.did_invalid'));
      return num(n);
    },
  });
  let phoneCursor = loose.next_cursor;
  const phoneLabel = (p) => [p.mac.match(/../g).join(':'), [p.make, p.model].filter(Boolean).join(' ') || t('users.phone_unknown_model'),
    p.last_seen ? t('users.phone_last_fetch', { when: fmtDate(p.last_seen) }) : t('users.phone_never')].join(' — ');
  const phones = picker({
    id: 'pick-phone', legendKey: 'users.phones', assignedKey: 'picker.assigned', availableKey: 'picker.available',
    assigned: mine.items, available: loose.items, key: (p) => p.mac, label: phoneLabel, moreDone: !phoneCursor,
    more: async () => {
      const ans = await api('GET', tenantPath(ctx, '/phones?limit=200&unassigned=true&cursor=' + encodeURIComponent(phoneCursor)));
      phoneCursor = ans.next_cursor;
      return { items: ans.items, done: !phoneCursor };
    },
  });
  const form = h('form', { id: 'user-assignments', novalidate: true },
    exts.el, dids.el, phones.el, formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'assign-save' }, t('common.save'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    try {
      const body = {};
      if (exts.changed()) body.extensions = exts.pickedKeys();
      if (dids.changed()) body.external_numbers = dids.pickedKeys();
      if (Object.keys(body).length) {
        setUser(await api('PATCH', path, body));
        exts.saved(); dids.saved();
      }
      const phonePath = (mac) => tenantPath(ctx, '/phones/' + encodeURIComponent(mac));
      for (const mac of phones.removed()) await api('PATCH', phonePath(mac), { user_id: '' });
      for (const mac of phones.added()) await api('PATCH', phonePath(mac), { user_id: user.id });
      phones.saved();
      toast(t('users.saved'), 'ok');
      form.dataset.saved = String(Date.now());
    } catch (err) { showErrors(form, err); }
  });
  panel.append(form);
}

// ---- Delete ----

async function deleteUser(ctx, user, path) {
  let p;
  try { p = await api('GET', path + '/delete-preview'); } catch (err) { toast(err.message, 'error'); return; }
  const li = [];
  if (p.extensions.length) li.push(t('users.del_extensions', { list: p.extensions.join(', ') }));
  if (p.external_numbers.length) li.push(t('users.del_numbers', { list: p.external_numbers.join(', ') }));
  if (p.phones.length) li.push(t('users.del_phones', { list: p.phones.map((m) => m.match(/../g).join(':')).join(', ') }));
  if (p.photo) li.push(t('users.del_photo'));
  li.push(t('users.del_sessions', { n: p.sessions }));
  li.push(t('users.del_bindings', { n: p.bindings }));
  if (p.flex_logins) li.push(t('users.del_flex', { n: p.flex_logins }));
  if (p.mails) li.push(t('users.del_mails', { n: p.mails }));
  const body = h('div', { id: 'delete-preview' }, h('p', {}, t('users.delete_intro', { name: fullName(user) })),
    h('ul', {}, li.map((s) => h('li', {}, s))));
  const ok = await confirmDialog({ title: t('users.delete_title', { name: fullName(user) }), body, confirmKey: 'users.delete', danger: true });
  if (!ok) return;
  try {
    await api('DELETE', path);
    toast(t('users.deleted', { name: fullName(user) }), 'ok');
    ctx.navigate('#/users');
  } catch (err) { toast(err.message, 'error'); }
}
