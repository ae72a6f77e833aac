// Set password: the page the welcome and reset mails link to (/set-password?token=…).
// The token is taken from the address bar once and the address cleaned, so it stays in
// no history entry; the page sends no Referer (Referrer-Policy: no-referrer).
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, field, formError, showErrors, clearErrors, languageSwitch } from '../ui.js';

let token = '';
// takeToken moves the token from /set-password?token=… into memory.
export function takeToken() {
  if (location.pathname !== '/set-password') return false;
  token = new URLSearchParams(location.search).get('token') || '';
  history.replaceState(null, '', '/#/set-password');
  return true;
}

export default {
  route: '#/set-password',
  nav: null,
  permission: null,
  public: true,
  render(el, params, ctx) {
    const box = h('div', { class: 'login card' },
      h('div', { class: 'lang' }, languageSwitch('lang-setpw', () => ctx.render())),
      h('h1', {}, t('setpw.title')));
    el.append(box);
    if (!token) {
      box.append(h('p', { role: 'alert' }, t('setpw.no_token')), h('p', {}, h('a', { href: '#/login' }, t('forgot.back'))));
      return;
    }
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', minlength: '10', maxlength: '128', required: true });
    const again = h('input', { name: 'again', type: 'password', autocomplete: 'new-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('setpw.submit'));
    const done = h('p', { role: 'status', id: 'setpw-done' });
    const form = h('form', { novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      clearErrors(form);
      if (password.value !== again.value) {
        showErrors(form, { field: 'again', message: t('setpw.differ') });
        return;
      }
      submit.disabled = true;
      try {
        const ans = await api('POST', '/auth/set-password', { token, password: password.value });
        token = '';
        form.remove();
        done.textContent = t('setpw.done', { email: (ans && ans.email) || '' });
        done.after(h('p', {}, h('a', { href: '#/login' }, t('login.submit'))));
      } catch (err) {
        showErrors(form, err);
      } finally {
        submit.disabled = false;
      }
    } },
    field('setpw.password', password),
    field('setpw.again', again),
    formError(),
    h('div', { class: 'actions' }, submit));
    box.append(form, done);
    password.focus();
  },
};
