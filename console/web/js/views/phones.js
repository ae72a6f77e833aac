// Phones: the tenant's phones (make, model, user, last fetch, flex and who is logged in),
// phones that asked for their files but are not the tenant's yet (claim or dismiss),
// resync, raw settings per phone and each phone's fetch log.
import { api } from '../api.js';
import { t, fmtDate } from '../i18n.js';
import { h, clear, field, formError, select, showErrors, toast, confirmDialog } from '../ui.js';
import { tpath, pagedTable, table, when, nameCell, section, errorLine, settingsText, parseSettings } from '../screens.js';

async function models(ctx) {
  try {
    const ans = await api('GET', tpath(ctx, '/models'));
    return (ans.items || []).map((m) => m.model);
  } catch {
    return [];
  }
}

// fetchLog shows the latest provisioning-log entries of one phone.
async function fetchLog(ctx, mac) {
  const ans = await api('GET', tpath(ctx, `/provisioning-log?limit=50&mac=${mac}`));
  const mine = ans.items || [];
  return table('phone-fetch-log', [
    { key: 'phones.log_time', cell: (e) => fmtDate(e.time) },
    { key: 'phones.log_file', cell: (e) => e.file },
    { key: 'phones.log_protocol', cell: (e) => e.protocol },
    { key: 'phones.log_status', cell: (e) => String(e.status) + (e.reason ? ` (${e.reason})` : '') },
    { key: 'phones.log_addr', cell: (e) => e.addr || '' },
  ], mine, 'phones.log_empty');
}

// phoneDialog shows one phone: flex, its raw settings and its fetch log.
async function phoneDialog(ctx, p, refresh) {
  const flex = h('input', { type: 'checkbox', name: 'flex', id: 'phone-flex', checked: p.flex });
  const settings = h('textarea', { name: 'settings', id: 'phone-settings', rows: '6', spellcheck: 'false' }, settingsText(p.settings));
  const form = h('form', { novalidate: true },
    h('div', { class: 'field check' }, flex, h('label', { for: 'phone-flex' }, t('phones.flex'))),
    field('phones.settings', settings, 'phones.settings_hint'), formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
  const log = h('div', {}, t('screens.loading'));
  const titleId = 'phone-dialog-title';
  const dlg = h('dialog', { 'aria-labelledby': titleId, class: 'wide' },
    h('h2', { id: titleId }, `${p.mac} · ${p.make || ''} ${p.model || ''}`),
    form, h('h3', {}, t('phones.fetch_log')), log,
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => { dlg.close(); dlg.remove(); } }, t('screens.close'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const body = { flex: flex.checked, settings: parseSettings(settings.value) };
      await api('PATCH', tpath(ctx, `/phones/${p.mac}`), body);
      toast(t('screens.saved'), 'ok');
      dlg.close(); dlg.remove();
      refresh();
    } catch (err) { showErrors(form, err); }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  try { clear(log).append(await fetchLog(ctx, p.mac)); } catch (err) { clear(log).append(errorLine(err)); }
}

export default {
  route: '#/phones',
  nav: 'nav.phones',
  permission: 'phones.manage',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    el.append(h('h1', {}, t('phones.title')));
    const modelNames = await models(ctx);
    let list = null;
    const refresh = () => list && list.reload().catch((err) => el.append(errorLine(err)));

    async function flexLogout(p) {
      try {
        await api('POST', tpath(ctx, `/phones/${p.mac}/logout`));
        toast(t('phones.logged_out', { mac: p.mac }), 'ok');
        refresh();
      } catch (err) { toast(err.message, 'error'); }
    }
    async function setFlex(p, box) {
      try {
        await api('PATCH', tpath(ctx, `/phones/${p.mac}`), { flex: box.checked });
        toast(t(box.checked ? 'phones.flex_on' : 'phones.flex_off', { mac: p.mac }), 'ok');
        refresh();
      } catch (err) { box.checked = !box.checked; toast(err.message, 'error'); }
    }
    async function resync(p) {
      try {
        await api('POST', tpath(ctx, '/phones/actions'), { action: 'resync', mac: p.mac });
        toast(t('phones.resync_sent', { mac: p.mac }), 'ok');
      } catch (err) { toast(err.message, 'error'); }
    }
    async function remove(p) {
      if (!await confirmDialog({ title: t('phones.delete_title', { mac: p.mac }), body: t('phones.delete_body'), confirmKey: 'phones.delete', danger: true })) return;
      try { await api('DELETE', tpath(ctx, `/phones/${p.mac}`)); refresh(); } catch (err) { toast(err.message, 'error'); }
    }
    const loggedIn = (p) => {
      if (!p.flex) return t('phones.not_flex');
      if (!p.logged_in) return t('phones.nobody');
      return h('span', {}, nameCell(ctx, p.logged_in.user_id), ` (${p.logged_in.extension}) `,
        t('phones.since', { when: fmtDate(p.logged_in.since) }), ' ',
        h('button', { type: 'button', class: 'link', onclick: () => flexLogout(p), 'aria-label': t('phones.logout_of', { mac: p.mac }) }, t('phones.logout')));
    };

    const listBox = h('div', {});
    el.append(section('phones.list', listBox));
    list = await pagedTable(listBox, 'phones-table', tpath(ctx, '/phones'), [
      { key: 'phones.mac', cell: (p) => h('button', { type: 'button', class: 'link', dataset: { mac: p.mac }, onclick: () => phoneDialog(ctx, p, refresh) }, p.mac) },
      { key: 'phones.model', cell: (p) => `${p.make || ''} ${p.model || ''}`.trim() },
      { key: 'phones.user', cell: (p) => nameCell(ctx, p.user_id) },
      { key: 'phones.last_fetch', cell: (p) => when(p.last_seen) },
      { key: 'phones.firmware', cell: (p) => p.firmware || '—' },
      { key: 'phones.flex_col', cell: (p) => h('input', { type: 'checkbox', checked: p.flex, dataset: { flex: p.mac },
        'aria-label': t('phones.flex_of', { mac: p.mac }), onchange: (e) => setFlex(p, e.target) }) },
      { key: 'phones.logged_in', cell: loggedIn },
      { key: 'phones.actions', cell: (p) => h('span', { class: 'row-actions' },
        h('button', { type: 'button', onclick: () => resync(p), 'aria-label': t('phones.resync_of', { mac: p.mac }) }, t('phones.resync')),
        h('button', { type: 'button', class: 'danger', onclick: () => remove(p), 'aria-label': t('phones.delete_of', { mac: p.mac }) }, t('phones.delete'))) },
    ], 'phones.empty');

    // Add a phone by MAC.
    const mac = h('input', { name: 'mac', id: 'phone-mac', autocomplete: 'off', placeholder: '80:5E:C0:AA:BB:CC' });
    const model = select({ name: 'model', id: 'phone-model' }, [{ value: '', label: t('phones.model_auto') }, ...modelNames.map((m) => ({ value: m, label: m }))], '');
    const flex = h('input', { type: 'checkbox', name: 'flex', id: 'phone-add-flex' });
    const add = h('form', { id: 'phone-add', novalidate: true }, field('phones.mac', mac), field('phones.model', model),
      h('div', { class: 'field check' }, flex, h('label', { for: 'phone-add-flex' }, t('phones.flex'))), formError(),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('phones.add'))));
    add.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const body = { mac: mac.value.trim(), flex: flex.checked };
        if (model.value) body.model = model.value;
        await api('POST', tpath(ctx, '/phones'), body);
        add.reset();
        toast(t('phones.added'), 'ok');
        refresh();
      } catch (err) { showErrors(add, err); }
    });
    el.append(section('phones.add_title', add));

    // Discovered phones: claim (POST …/phones with the MAC) or dismiss.
    const discBox = h('div', {});
    el.append(section('phones.discovered', h('p', { class: 'hint' }, t('phones.discovered_hint')), discBox));
    let disc = null;
    async function claim(d) {
      try {
        const body = { mac: d.mac };
        if (d.model && modelNames.includes(d.model)) body.model = d.model;
        await api('POST', tpath(ctx, '/phones'), body);
        toast(t('phones.claimed', { mac: d.mac }), 'ok');
        disc.reload(); refresh();
      } catch (err) { toast(err.message, 'error'); }
    }
    async function dismiss(d) {
      try { await api('DELETE', tpath(ctx, `/discovered-phones/${d.mac}`)); disc.reload(); } catch (err) { toast(err.message, 'error'); }
    }
    disc = await pagedTable(discBox, 'discovered-table', tpath(ctx, '/discovered-phones'), [
      { key: 'phones.mac', cell: (d) => d.mac },
      { key: 'phones.model', cell: (d) => `${d.make || ''} ${d.model || ''}`.trim() || '—' },
      { key: 'phones.firmware', cell: (d) => d.firmware || '—' },
      { key: 'phones.addr', cell: (d) => d.addr || '—' },
      { key: 'phones.last_fetch', cell: (d) => when(d.last_seen) },
      { key: 'phones.actions', cell: (d) => h('span', { class: 'row-actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => claim(d), 'aria-label': t('phones.claim_of', { mac: d.mac }) }, t('phones.claim')),
        h('button', { type: 'button', onclick: () => dismiss(d), 'aria-label': t('phones.dismiss_of', { mac: d.mac }) }, t('phones.dismiss'))) },
    ], 'phones.discovered_empty');
  },
};
