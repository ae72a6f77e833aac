// Building blocks shared by the admin screens (phones, import, settings, …): tables,
// paged lists, progress bars and the key = value editor for raw phone settings.
import { api } from './api.js';
import { t, fmtDate, fmtNumber } from './i18n.js';
import { h, clear, uid } from './ui.js';

// tpath is a path under the tenant being worked on.
export function tpath(ctx, rest) {
  return `/tenants/${encodeURIComponent(ctx.tenant)}${rest}`;
}

// table builds a table: cols [{key: i18n key of the header, cell(row) → node|text}].
export function table(id, cols, rows, emptyKey) {
  const body = h('tbody', {}, rows.map((r) => h('tr', {}, cols.map((c) => h('td', {}, c.cell(r))))));
  if (!rows.length && emptyKey) {
    body.append(h('tr', {}, h('td', { colspan: String(cols.length), class: 'empty' }, t(emptyKey))));
  }
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c.label || t(c.key))))), body));
}

// pagedTable shows a list API page by page: a "Load more" button follows next_cursor.
// path is the list path without limit/cursor; rows are appended to the one table.
export async function pagedTable(el, id, path, cols, emptyKey, limit = 100) {
  let cursor = '';
  const holder = h('div', {});
  const more = h('button', { type: 'button', class: 'more', hidden: true }, t('screens.more'));
  el.append(holder, more);
  let all = [];
  async function load() {
    const sep = path.includes('?') ? '&' : '?';
    const ans = await api('GET', `${path}${sep}limit=${limit}${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`);
    all = all.concat(ans.items || []);
    clear(holder).append(table(id, cols, all, emptyKey));
    cursor = ans.next_cursor || '';
    more.hidden = !cursor;
  }
  more.addEventListener('click', () => load().catch((err) => holder.append(errorLine(err))));
  await load();
  return { reload: () => { all = []; cursor = ''; return load(); } };
}

// errorLine is an error as a line of text in the page, announced.
export function errorLine(err) {
  return h('p', { class: 'form-error', role: 'alert' }, err && err.message ? err.message : String(err));
}

export function when(d) { return d ? fmtDate(d) : '—'; }

// progress is a labelled progress bar with a line of text under it.
export function progress(id, labelKey) {
  const labelId = uid('pl');
  const bar = h('progress', { id, max: '1', value: '0', 'aria-labelledby': labelId });
  const text = h('div', { class: 'progress-text', id: labelId, 'aria-live': 'polite' }, t(labelKey));
  const wrap = h('div', { class: 'progress' }, bar, text);
  return {
    el: wrap,
    set(done, total, key, vars) {
      bar.max = Math.max(total, 1);
      bar.value = Math.min(done, bar.max);
      text.textContent = t(key, { done: fmtNumber(done), total: fmtNumber(total), ...(vars || {}) });
    },
  };
}

// Raw settings are edited as "key = value" lines; sections "[model]" group them per model.
export function settingsText(m) {
  return Object.keys(m || {}).sort().map((k) => `${k} = ${m[k]}`).join('\n');
}

export function parseSettings(text) {
  const out = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i < 1) throw Object.assign(new Error(t('screens.settings_line', { line })), { field: 'settings' });
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function sectionsText(m) {
  return Object.keys(m || {}).sort().map((s) => `[${s}]\n${settingsText(m[s])}`).join('\n\n');
}

export function parseSections(text) {
  const out = {};
  let cur = null;
  const lines = [];
  const flush = () => { if (cur !== null) out[cur] = parseSettings(lines.join('\n')); lines.length = 0; };
  for (const raw of text.split('\n')) {
    const m = raw.trim().match(/^\[(.+)\]$/);
    if (m) { flush(); cur = m[1].trim(); continue; }
    if (raw.trim() && cur === null) throw Object.assign(new Error(t('screens.settings_section')), { field: 'settings' });
    lines.push(raw);
  }
  flush();
  return out;
}

// userNames resolves user ids to display names, one GET per id not seen before.
const names = new Map();
export async function userName(ctx, id) {
  if (!id) return '';
  const key = ctx.tenant + '/' + id;
  if (!names.has(key)) {
    names.set(key, api('GET', tpath(ctx, `/users/${encodeURIComponent(id)}`))
      .then((u) => `${u.first_name} ${u.last_name}`.trim() || u.email || id, () => id));
  }
  return names.get(key);
}

// nameCell is a table cell's text filled in once the user's name is known.
export function nameCell(ctx, id) {
  const span = h('span', {}, id ? '…' : '—');
  if (id) userName(ctx, id).then((n) => { span.textContent = n; });
  return span;
}

// section is a titled part of a screen.
export function section(titleKey, ...children) {
  const id = uid('sec');
  return h('section', { class: 'screen-section', 'aria-labelledby': id }, h('h2', { id }, t(titleKey)), ...children);
}
