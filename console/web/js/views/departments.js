// Departments: list, add, edit (name, language, time zone) and delete. A department's
// language and time zone are its own (overridden) or the tenant's (inherited, left empty).
import { api, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { h, clear, field, formError, select, showErrors, toast, confirmDialog } from '../ui.js';
import { tpath, table, section } from '../screens.js';
import { languageCodes, timezoneList } from './settings.js';

// inherited shows a department's value, or the tenant's marked as inherited.
function inherited(own, tenantValue) {
  if (own) return h('span', { class: 'overridden' }, own, ' ', h('span', { class: 'badge' }, t('departments.overridden')));
  return h('span', { class: 'inherited' }, tenantValue || '—', ' ', h('span', { class: 'badge muted' }, t('departments.inherited')));
}

function deptForm(id, d, tenant, submitKey, onSubmit) {
  const name = h('input', { name: 'name', id: id + '-name', value: d.name || '', autocomplete: 'off' });
  const lang = select({ name: 'language', id: id + '-language' },
    [{ value: '', label: t('departments.use_tenant', { value: tenant.language }) },
      ...languageCodes.map((l) => ({ value: l, label: `${t('langname.' + l)} (${l})` }))], d.language || '');
  const tz = h('input', { name: 'timezone', id: id + '-timezone', value: d.timezone || '', list: timezoneList(),
    placeholder: tenant.timezone, autocomplete: 'off' });
  const form = h('form', { id, novalidate: true }, field('departments.name', name), field('departments.language', lang, 'departments.language_hint'),
    field('departments.timezone', tz, 'departments.timezone_hint'), formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t(submitKey))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await onSubmit({ name: name.value.trim(), language: lang.value, timezone: tz.value.trim() });
    } catch (err) { showErrors(form, err); }
  });
  return form;
}

export default {
  route: '#/departments',
  nav: 'nav.departments',
  permission: 'departments.manage',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    el.append(h('h1', {}, t('departments.title')));
    const tenant = await api('GET', tpath(ctx, ''));
    const listBox = h('div', {});
    const editBox = h('div', { id: 'department-edit' });
    el.append(section('departments.list', h('p', { class: 'hint' }, t('departments.inherit_hint')), listBox), editBox);

    async function load() {
      const ans = await api('GET', tpath(ctx, '/departments?limit=1000'));
      clear(listBox).append(table('departments-table', [
        { key: 'departments.name', cell: (d) => d.name },
        { key: 'departments.language', cell: (d) => inherited(d.language, tenant.language) },
        { key: 'departments.timezone', cell: (d) => inherited(d.timezone, tenant.timezone) },
        { key: 'departments.actions', cell: (d) => h('span', { class: 'row-actions' },
          h('button', { type: 'button', onclick: () => edit(d), 'aria-label': t('departments.edit_of', { name: d.name }) }, t('departments.edit')),
          h('button', { type: 'button', class: 'danger', onclick: () => remove(d), 'aria-label': t('departments.delete_of', { name: d.name }) }, t('departments.delete'))) },
      ], ans.items || [], 'departments.empty'));
    }
    function edit(d) {
      clear(editBox).append(section('departments.edit_title', deptForm('department-edit-form', d, tenant, 'common.save', async (v) => {
        await api('PATCH', tpath(ctx, `/departments/${encodeURIComponent(d.id)}`), v);
        toast(t('screens.saved'), 'ok');
        clear(editBox);
        await load();
      })));
      editBox.querySelector('input').focus();
    }
    async function remove(d) {
      if (!await confirmDialog({ title: t('departments.delete_title', { name: d.name }), body: t('departments.delete_body'), confirmKey: 'departments.delete', danger: true })) return;
      const path = tpath(ctx, `/departments/${encodeURIComponent(d.id)}`);
      try {
        await api('DELETE', path);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409) { toast(err.message, 'error'); return; }
        // Members: they leave the department (no department) after a second yes.
        if (!await confirmDialog({ title: t('departments.members_title'), body: err.message + ' ' + t('departments.members_body'), confirmKey: 'departments.delete', danger: true })) return;
        try { await api('DELETE', path + '?move_members_to=-'); } catch (err2) { toast(err2.message, 'error'); return; }
      }
      toast(t('departments.deleted', { name: d.name }), 'ok');
      await load();
    }
    await load();
    el.append(section('departments.add', deptForm('department-add', {}, tenant, 'departments.add_button', async (v) => {
      const body = { name: v.name };
      if (v.language) body.language = v.language;
      if (v.timezone) body.timezone = v.timezone;
      await api('POST', tpath(ctx, '/departments'), body);
      el.querySelector('#department-add').reset();
      toast(t('departments.added', { name: v.name }), 'ok');
      await load();
    })));
  },
};
