// Users: the tenant's users, searched, sorted and grouped by department on the server
// (GET …/users?q=&sort=&department_id=), a page at a time through the API's cursor.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, clear, select } from '../ui.js';

// The sortable columns: [sort value of the API, heading key].
const columns = [
  ['name', 'users.name'],
  ['extension', 'users.extensions'],
  ['email', 'users.email'],
  ['department', 'users.department'],
  ['role', 'users.role'],
];

export function tenantPath(ctx, rest) { return `/tenants/${encodeURIComponent(ctx.tenant)}${rest}`; }

export async function departments(ctx) {
  const ans = await api('GET', tenantPath(ctx, '/departments?limit=1000'));
  return ans.items || [];
}

export function roleLabel(role) { return t('role.' + role); }

export default {
  route: '#/users',
  nav: 'nav.users',
  permission: 'users.manage',
  async render(el, params, ctx) {
    const state = { q: '', sort: 'name', dept: '', grouped: false, cursor: '' };
    const depts = await departments(ctx);
    const deptName = new Map(depts.map((d) => [d.id, d.name]));

    const search = h('input', { type: 'search', id: 'users-search', name: 'q', autocomplete: 'off', placeholder: t('users.search_hint') });
    const deptSel = select({ id: 'users-dept', name: 'department_id' },
      [{ value: '', label: t('users.all_departments') }, ...depts.map((d) => ({ value: d.id, label: d.name }))], '');
    const group = h('input', { type: 'checkbox', id: 'users-group' });
    const add = ctx.can('users.manage')
      ? h('a', { href: '#/users/new', class: 'button primary add', id: 'users-add', 'aria-label': t('users.add'), title: t('users.add') }, '+')
      : null;
    const tbody = h('tbody', {});
    const headRow = h('tr', {});
    const count = h('p', { class: 'hint', 'aria-live': 'polite', id: 'users-count' });
    const more = h('button', { type: 'button', id: 'users-more', hidden: true }, t('users.more'));

    el.append(
      h('div', { class: 'page-head' }, h('h1', {}, t('users.title')), add),
      h('div', { class: 'filters' },
        h('div', { class: 'field' }, h('label', { for: search.id }, t('users.search')), search),
        h('div', { class: 'field' }, h('label', { for: deptSel.id }, t('users.department')), deptSel),
        h('div', { class: 'field check' }, group, h('label', { for: group.id }, t('users.group_by_department')))),
      h('div', { class: 'table-wrap' }, h('table', { id: 'users-table' }, h('thead', {}, headRow), tbody)),
      count, more);

    function drawHead() {
      clear(headRow);
      for (const [key, label] of columns) {
        const cur = state.sort.replace(/^-/, '') === key;
        const desc = state.sort.startsWith('-');
        headRow.append(h('th', { scope: 'col', 'aria-sort': cur ? (desc ? 'descending' : 'ascending') : null },
          h('button', { type: 'button', class: 'sort', dataset: { sort: key },
            onclick: () => { state.sort = cur && !desc ? '-' + key : key; state.grouped = state.grouped && key === 'department'; group.checked = state.grouped; load(true); } },
          t(label), cur ? (desc ? ' ▼' : ' ▲') : '')));
      }
    }

    let lastGroup = null;
    let shown = 0;
    function row(u) {
      const name = `${u.first_name} ${u.last_name}`.trim();
      return h('tr', { dataset: { id: u.id } },
        h('td', {}, h('a', { href: `#/users/${encodeURIComponent(u.id)}/profile` }, name)),
        h('td', {}, (u.extensions || []).join(', ')),
        h('td', {}, u.email || ''),
        h('td', {}, deptName.get(u.department_id) || ''),
        h('td', {}, roleLabel(u.role)));
    }

    let loads = 0;
    let timer = 0;
    async function load(fresh) {
      const mine = ++loads;
      if (fresh) { clearTimeout(timer); state.q = search.value.trim(); state.cursor = ''; lastGroup = null; shown = 0; }
      const qs = new URLSearchParams({ limit: '100', sort: state.grouped ? 'department' : state.sort });
      if (state.q) qs.set('q', state.q);
      if (state.dept) qs.set('department_id', state.dept);
      if (state.cursor) qs.set('cursor', state.cursor);
      const ans = await api('GET', tenantPath(ctx, '/users?' + qs));
      if (mine !== loads) return;
      if (fresh) { clear(tbody); drawHead(); }
      for (const u of ans.items) {
        if (state.grouped && u.department_id !== lastGroup) {
          lastGroup = u.department_id;
          tbody.append(h('tr', { class: 'group' }, h('th', { scope: 'colgroup', colspan: String(columns.length) },
            deptName.get(u.department_id) || t('users.no_department'))));
        }
        tbody.append(row(u));
      }
      shown += ans.items.length;
      state.cursor = ans.next_cursor;
      more.hidden = !ans.next_cursor;
      count.textContent = shown === 0 ? t('users.none_found') : t('users.shown', { n: shown });
    }

    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => load(true), 250);
    });
    deptSel.addEventListener('change', () => { state.dept = deptSel.value; load(true); });
    group.addEventListener('change', () => { state.grouped = group.checked; if (state.grouped) state.sort = 'department'; load(true); });
    more.addEventListener('click', () => load(false));
    await load(true);
  },
};
