// Numbers: the tenant's internal range (ext_min to ext_max), the extensions in use, and
// the external numbers (DIDs) with the users they ring.
import { api } from '../api.js';
import { t, fmtNumber } from '../i18n.js';
import { h, clear, field, formError, showErrors, toast } from '../ui.js';
import { tpath, pagedTable, table, nameCell, section } from '../screens.js';

export default {
  route: '#/numbers',
  nav: 'nav.numbers',
  permission: 'tenant.settings',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    el.append(h('h1', {}, t('numbers.title')));
    const tenant = await api('GET', tpath(ctx, ''));
    const min = h('input', { type: 'number', name: 'ext_min', id: 'numbers-min', value: String(tenant.ext_min) });
    const max = h('input', { type: 'number', name: 'ext_max', id: 'numbers-max', value: String(tenant.ext_max) });
    const size = h('p', { class: 'hint', id: 'numbers-size' });
    const showSize = () => { size.textContent = t('numbers.range_size', { n: fmtNumber(Math.max(0, Number(max.value) - Number(min.value) + 1)) }); };
    min.addEventListener('input', showSize); max.addEventListener('input', showSize); showSize();
    const form = h('form', { id: 'numbers-range', novalidate: true }, h('div', { class: 'row' }, field('numbers.ext_min', min), field('numbers.ext_max', max)),
      size, formError(), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await api('PATCH', tpath(ctx, ''), { ext_min: Number(min.value), ext_max: Number(max.value) });
        toast(t('screens.saved'), 'ok');
      } catch (err) { showErrors(form, err); }
    });
    el.append(section('numbers.range', h('p', { class: 'hint' }, t('numbers.range_hint')), form));

    const exts = h('div', {});
    el.append(section('numbers.extensions', exts));
    await pagedTable(exts, 'extensions-table', tpath(ctx, '/extensions'), [
      { key: 'numbers.number', cell: (x) => x.number },
      { key: 'numbers.user', cell: (x) => nameCell(ctx, x.user_id) },
      { key: 'numbers.sip_username', cell: (x) => x.sip_username || '—' },
    ], 'numbers.no_extensions');

    // External numbers are held by users: walk the user list a page at a time.
    const dids = h('div', {});
    const more = h('button', { type: 'button', class: 'more', hidden: true }, t('screens.more'));
    el.append(section('numbers.external', h('p', { class: 'hint' }, t('numbers.external_hint')), dids, more));
    let cursor = '';
    const rows = [];
    async function load() {
      const ans = await api('GET', tpath(ctx, `/users?limit=1000${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`));
      for (const u of ans.items || []) {
        for (const n of u.external_numbers || []) rows.push({ number: n, user: u });
      }
      rows.sort((a, b) => a.number.localeCompare(b.number));
      clear(dids).append(table('dids-table', [
        { key: 'numbers.number', cell: (r) => r.number },
        { key: 'numbers.user', cell: (r) => `${r.user.first_name} ${r.user.last_name}`.trim() },
        { key: 'numbers.extension', cell: (r) => (r.user.extensions || []).join(', ') || '—' },
      ], rows, 'numbers.no_external'));
      cursor = ans.next_cursor || '';
      more.hidden = !cursor;
    }
    more.addEventListener('click', () => load().catch((err) => toast(err.message, 'error')));
    await load();
  },
};
