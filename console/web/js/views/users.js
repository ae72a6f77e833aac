// Users: the list of the tenant's users (the console-users screens build on this).
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h } from '../ui.js';

export default {
  route: '#/users',
  nav: 'nav.users',
  permission: 'users.manage',
  async render(el, params, ctx) {
    el.append(h('h1', {}, t('users.title')));
    const ans = await api('GET', `/tenants/${encodeURIComponent(ctx.tenant)}/users?limit=50`);
    const rows = (ans.users || ans.items || []).map((u) => h('tr', {},
      h('td', {}, `${u.first_name} ${u.last_name}`), h('td', {}, u.email || ''), h('td', {}, (u.extensions || []).join(', '))));
    el.append(h('div', { class: 'table-wrap' }, h('table', { id: 'users-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('users.name')), h('th', { scope: 'col' }, t('users.email')),
        h('th', { scope: 'col' }, t('users.extensions')))),
      h('tbody', {}, rows))));
  },
};
