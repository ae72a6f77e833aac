// Login: email and password; the session is a cookie (admin/cookiesession.go).
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, field, formError, showErrors, clearErrors, languageSwitch } from '../ui.js';

export default {
  route: '#/login',
  nav: null,
  permission: null,
  public: true,
  render(el, params, ctx) {
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true, autofocus: true });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
    const form = h('form', { novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      clearErrors(form);
      submit.disabled = true;
      try {
        const ans = await api('POST', '/auth/login', { email: email.value.trim(), password: password.value, session: 'cookie' });
        await ctx.signedIn(ans);
      } catch (err) {
        showErrors(form, err);
      } finally {
        submit.disabled = false;
      }
    } },
    field('login.email', email),
    field('login.password', password),
    formError(),
    h('div', { class: 'actions' }, submit, h('a', { href: '#/forgot-password' }, t('login.forgot'))));
    el.append(h('div', { class: 'login card' },
      h('div', { class: 'lang' }, languageSwitch('lang-login', () => ctx.render())),
      h('h1', {}, t('login.title')), form));
    email.focus();
  },
};
