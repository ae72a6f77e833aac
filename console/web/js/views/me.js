// Self-service: my profile, language (switches the console), password, PIN, my numbers
// and phones, and "log me out of the flex phone I'm at" (PATCH /me, GET /me/phones,
// POST /me/flex-logout).
import { api } from '../api.js';
import { t, fmtDate, setLanguage } from '../i18n.js';
import { h, field, formError, select, showErrors, toast, clearErrors } from '../ui.js';
import { table, when, section, errorLine } from '../screens.js';
import { languageCodes } from './settings.js';

function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v || '—')]));
}

export default {
  route: '#/me',
  nav: 'nav.me',
  permission: 'self.manage',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    const me = await api('GET', '/me');
    el.append(h('h1', {}, t('me.title')));

    el.append(section('me.profile', dl([
      ['me.name', `${me.first_name} ${me.last_name}`.trim()],
      ['me.email', me.email],
      ['me.role', t('me.role.' + me.role)],
      ['me.mobile', me.mobile],
    ]), h('p', { class: 'hint' }, t('me.profile_hint'))));

    // Language: saved on the account, and the console switches at once.
    const lang = select({ name: 'language', id: 'me-language' },
      languageCodes.map((l) => ({ value: l, label: `${t('langname.' + l)} (${l})` })), me.language || 'en');
    const langForm = h('form', { id: 'me-language-form', novalidate: true }, field('me.language', lang, 'me.language_hint'), formError(),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
    langForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await api('PATCH', '/me', { language: lang.value });
        await setLanguage(lang.value);
        await ctx.reloadMe();
        toast(t('screens.saved'), 'ok');
        ctx.render();
      } catch (err) { showErrors(langForm, err); }
    });
    el.append(section('me.language_title', langForm));

    // Password, with the current one.
    const oldPw = h('input', { type: 'password', name: 'old_password', id: 'me-old-password', autocomplete: 'current-password' });
    const pw = h('input', { type: 'password', name: 'password', id: 'me-password', autocomplete: 'new-password' });
    const pw2 = h('input', { type: 'password', name: 'password2', id: 'me-password2', autocomplete: 'new-password' });
    const pwForm = h('form', { id: 'me-password-form', novalidate: true }, field('me.old_password', oldPw), field('me.password', pw, 'me.password_hint'),
      field('me.password2', pw2), formError(), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('me.change_password'))));
    pwForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(pwForm);
      if (pw.value !== pw2.value) {
        showErrors(pwForm, { field: 'password2', message: t('me.passwords_differ') });
        return;
      }
      try {
        await api('PATCH', '/me', { old_password: oldPw.value, password: pw.value });
        pwForm.reset();
        toast(t('me.password_changed'), 'ok');
      } catch (err) { showErrors(pwForm, err); }
    });
    el.append(section('me.password_title', pwForm));

    // PIN: set one, or have one made and shown once.
    const pin = h('input', { type: 'password', name: 'pin', id: 'me-pin', inputmode: 'numeric', autocomplete: 'off' });
    const shown = h('p', { role: 'status', id: 'me-pin-shown' });
    const pinForm = h('form', { id: 'me-pin-form', novalidate: true }, field('me.pin', pin, 'me.pin_hint'), formError(),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, t('me.set_pin')),
        h('button', { type: 'button', id: 'me-pin-generate', onclick: async () => {
          try {
            const ans = await api('PATCH', '/me', { reset_pin: true });
            shown.textContent = t('me.pin_generated', { pin: ans.pin });
          } catch (err) { showErrors(pinForm, err); }
        } }, t('me.generate_pin'))), shown);
    pinForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await api('PATCH', '/me', { pin: pin.value });
        pinForm.reset();
        shown.textContent = '';
        toast(t('me.pin_set'), 'ok');
      } catch (err) { showErrors(pinForm, err); }
    });
    el.append(section('me.pin_title', pinForm));

    el.append(section('me.numbers', dl([
      ['me.extensions', (me.extensions || []).join(', ')],
      ['me.external_numbers', (me.external_numbers || []).join(', ')],
    ])));

    // My phones, and the flex phone I am logged in at.
    const phones = h('div', { id: 'me-phones' });
    const out = h('button', { type: 'button', id: 'me-flex-logout', hidden: true }, t('me.flex_logout'));
    async function loadPhones() {
      let ans;
      try { ans = await api('GET', '/me/phones'); } catch (err) { phones.replaceChildren(errorLine(err)); return; }
      const items = ans.items || [];
      phones.replaceChildren(table('me-phones-table', [
        { key: 'phones.mac', cell: (p) => p.mac },
        { key: 'phones.model', cell: (p) => `${p.make || ''} ${p.model || ''}`.trim() },
        { key: 'me.how', cell: (p) => (p.assigned ? t('me.assigned') : t('me.flex_at')) },
        { key: 'phones.logged_in', cell: (p) => (p.logged_in ? t('me.logged_in_since', { ext: p.logged_in.extension, when: fmtDate(p.logged_in.since) }) : '—') },
        { key: 'phones.last_fetch', cell: (p) => when(p.last_seen) },
      ], items, 'me.no_phones'));
      out.hidden = !items.some((p) => p.logged_in && p.logged_in.user_id === me.id);
    }
    out.addEventListener('click', async () => {
      try {
        const ans = await api('POST', '/me/flex-logout');
        toast(t('me.flex_logged_out', { n: (ans.logged_out || []).length }), 'ok');
        await loadPhones();
      } catch (err) { toast(err.message, 'error'); }
    });
    el.append(section('me.phones', phones, h('div', { class: 'actions' }, out)));
    await loadPhones();
  },
};
