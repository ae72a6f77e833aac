// Audit log: filtered by person, action and date on the server; each event's before and
// after shown as a diff of the fields that changed.
import { api } from '../api.js';
import { t, fmtDate } from '../i18n.js';
import { h, clear, field, formError, showErrors } from '../ui.js';
import { tpath, table, section } from '../screens.js';

// flatten turns nested objects into dotted paths: {a: {b: 1}} → {"a.b": 1}.
function flatten(v, prefix = '', out = {}) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = v;
  }
  return out;
}

const show = (v) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

// diff lists the fields whose values differ between before and after.
export function diff(before, after) {
  const a = flatten(before || {}), b = flatten(after || {});
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => show(a[k]) !== show(b[k])).map((k) => ({ field: k, before: a[k], after: b[k] }));
}

function diffTable(ev) {
  const rows = diff(ev.before, ev.after);
  if (!rows.length) return h('span', { class: 'muted' }, t('audit.no_changes'));
  return h('table', { class: 'diff' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('audit.field')), h('th', { scope: 'col' }, t('audit.before')), h('th', { scope: 'col' }, t('audit.after')))),
    h('tbody', {}, rows.map((r) => h('tr', {}, h('td', {}, r.field),
      h('td', { class: 'del' }, r.before === undefined ? '—' : show(r.before)),
      h('td', { class: 'ins' }, r.after === undefined ? '—' : show(r.after))))));
}

// dayBound turns a date input's value into the start (or end) of that day, local time.
function dayBound(value, end) {
  if (!value) return '';
  const d = new Date(value + (end ? 'T23:59:59' : 'T00:00:00'));
  return isNaN(d) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export default {
  route: '#/audit',
  nav: 'nav.audit',
  permission: 'reports.read',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    el.append(h('h1', {}, t('audit.title')));
    // People for the person filter: the first thousand users, by name.
    let people = [];
    try {
      const ans = await api('GET', tpath(ctx, '/users?limit=1000'));
      people = (ans.items || []).map((u) => ({ id: u.id, label: `${u.first_name} ${u.last_name}${u.email ? ' <' + u.email + '>' : ''}` }));
    } catch { people = []; }
    const person = h('input', { name: 'subject', id: 'audit-person', list: 'audit-people', autocomplete: 'off' });
    const action = h('input', { name: 'action', id: 'audit-action', autocomplete: 'off', placeholder: 'user.' });
    const since = h('input', { type: 'date', name: 'since', id: 'audit-since' });
    const until = h('input', { type: 'date', name: 'until', id: 'audit-until' });
    const form = h('form', { id: 'audit-filter', class: 'filters', novalidate: true },
      h('datalist', { id: 'audit-people' }, people.map((p) => h('option', { value: p.label }))),
      field('audit.person', person, 'audit.person_hint'), field('audit.action', action, 'audit.action_hint'),
      field('audit.since', since), field('audit.until', until), formError(),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('audit.apply'))));
    const list = h('div', { id: 'audit-list' });
    const more = h('button', { type: 'button', class: 'more', hidden: true }, t('screens.more'));
    el.append(form, section('audit.events', list, more));

    let cursor = '', events = [], query = '';
    async function load() {
      const ans = await api('GET', tpath(ctx, `/audit?limit=50${query}${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`));
      events = events.concat(ans.items || []);
      cursor = ans.next_cursor || '';
      more.hidden = !cursor;
      clear(list).append(table('audit-table', [
        { key: 'audit.time', cell: (e) => fmtDate(e.time) },
        { key: 'audit.actor', cell: (e) => (e.actor_email || e.actor_id || '—') + (e.view_as ? ' ' + t('audit.as', { who: e.view_as }) : '') },
        { key: 'audit.action', cell: (e) => e.action },
        { key: 'audit.object', cell: (e) => e.object },
        { key: 'audit.changes', cell: (e) => diffTable(e) },
      ], events, 'audit.empty'));
    }
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const who = person.value.trim();
      const match = people.find((p) => p.label === who);
      const q = new URLSearchParams();
      if (who) q.set('subject', match ? match.id : who);
      if (action.value.trim()) q.set('action', action.value.trim());
      if (since.value) q.set('since', dayBound(since.value, false));
      if (until.value) q.set('until', dayBound(until.value, true));
      query = q.toString() ? '&' + q.toString() : '';
      cursor = ''; events = [];
      try { await load(); } catch (err) { showErrors(form, err); }
    });
    more.addEventListener('click', () => load().catch((err) => showErrors(form, err)));
    await load();
  },
};
