// Add a user (the + of the users list): POST …/users, errors next to the fields the API
// names; the generated PIN and password are shown once.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, field, formError, showErrors, select, clearErrors } from '../ui.js';
import { tenantPath, departments, roleLabel } from './users.js';
import { languageOptions } from './user.js';

export default {
  route: '#/users/new',
  nav: null,
  permission: 'users.manage',
  async render(el, params, ctx) {
    const depts = await departments(ctx);
    const inp = (name, type = 'text', extra = {}) => h('input', { name, type, id: 'new-' + name, ...extra });
    const deptSel = select({ name: 'department_id', id: 'new-department_id' },
      [{ value: '', label: t('users.no_department') }, ...depts.map((d) => ({ value: d.id, label: d.name }))], '');
    const roleSel = select({ name: 'role', id: 'new-role' },
      ['user', 'none', 'receptionist', 'department_admin', 'manager', 'owner', 'system_admin', 'system_owner']
        .map((r) => ({ value: r, label: roleLabel(r) })), 'user');
    const langSel = select({ name: 'language', id: 'new-language' }, languageOptions(), '');
    const form = h('form', { id: 'user-new', class: 'card', novalidate: true },
      field('users.first_name', inp('first_name', 'text', { autocomplete: 'off', required: true })),
      field('users.last_name', inp('last_name', 'text', { autocomplete: 'off', required: true })),
      field('users.email', inp('email', 'email', { autocomplete: 'off' }), 'users.email_hint'),
      field('users.department', deptSel),
      field('users.role', roleSel),
      field('users.language', langSel),
      field('users.mobile', inp('mobile', 'tel', { autocomplete: 'off' })),
      field('users.extension', inp('extension', 'text', { inputmode: 'numeric', autocomplete: 'off' }), 'users.extension_hint'),
      formError(),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, t('users.create')),
        h('a', { href: '#/users' }, t('common.cancel'))));
    const result = h('div', { id: 'user-new-result', role: 'status' });
    el.append(h('h1', {}, t('users.add')), form, result);
    form.first_name.focus();
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const body = { first_name: form.first_name.value.trim(), last_name: form.last_name.value.trim(), role: roleSel.value };
      for (const k of ['email', 'department_id', 'language', 'mobile']) if (form[k].value.trim()) body[k] = form[k].value.trim();
      if (form.extension.value.trim()) body.extensions = [form.extension.value.trim()];
      const submit = form.querySelector('button[type="submit"]');
      submit.disabled = true;
      try {
        const u = await api('POST', tenantPath(ctx, '/users'), body);
        form.hidden = true;
        result.append(h('div', { class: 'card' },
          h('p', {}, t('users.created', { name: `${u.first_name} ${u.last_name}` })),
          u.pin ? h('p', {}, t('users.generated_pin'), ' ', h('code', { id: 'new-pin' }, u.pin)) : null,
          u.password ? h('p', {}, t('users.generated_password'), ' ', h('code', { id: 'new-password' }, u.password)) : null,
          h('p', { class: 'hint' }, t('users.shown_once')),
          h('div', { class: 'actions' },
            h('a', { href: `#/users/${encodeURIComponent(u.id)}/profile`, class: 'button primary', id: 'new-open' }, t('users.open')),
            h('a', { href: '#/users/new', class: 'button', onclick: (ev) => { ev.preventDefault(); ctx.render(); } }, t('users.add_another')))));
        result.querySelector('a').focus();
      } catch (err) {
        if (err.field === 'extensions') err.field = 'extension';
        showErrors(form, err);
      } finally {
        submit.disabled = false;
      }
    });
  },
};
