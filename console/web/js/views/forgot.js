// Forgot password: asks the API to mail a set-password link; the answer is the same
// whether or not the address has an account.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, field, formError, showErrors, clearErrors, languageSwitch } from '../ui.js';

export default {
  route: '#/forgot-password',
  nav: null,
  permission: null,
  public: true,
  render(el, params, ctx) {
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('forgot.submit'));
    const done = h('p', { role: 'status', id: 'forgot-done' });
    const form = h('form', { novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      clearErrors(form);
      submit.disabled = true;
      try {
        await api('POST', '/auth/forgot-password', { email: email.value.trim() });
        form.hidden = true;
        done.textContent = t('forgot.sent');
      } catch (err) {
        showErrors(form, err);
      } finally {
        submit.disabled = false;
      }
    } },
    h('p', { class: 'hint' }, t('forgot.intro')),
    field('login.email', email),
    formError(),
    h('div', { class: 'actions' }, submit));
    el.append(h('div', { class: 'login card' },
      h('div', { class: 'lang' }, languageSwitch('lang-forgot', () => ctx.render())),
      h('h1', {}, t('forgot.title')), form, done,
      h('p', {}, h('a', { href: '#/login' }, t('forgot.back')))));
    email.focus();
  },
};
