// Tenant settings: every setting of PATCH /api/v1/tenants/{slug}, grouped, each with its
// help text; only the changed ones are sent, and an error is shown at the field it names.
import { api } from '../api.js';
import { t, fmtDate } from '../i18n.js';
import { h, field, formError, select, showErrors, toast, clearErrors } from '../ui.js';
import { tpath, section, sectionsText, parseSections } from '../screens.js';

export const languageCodes = ['en', 'nl', 'de', 'fr', 'es', 'it', 'pt', 'pl', 'sv', 'da', 'nb', 'fi', 'cs', 'tr', 'ru'];

// timezones is a datalist of the browser's IANA zones, shared by every time zone field.
export function timezoneList() {
  let dl = document.getElementById('timezones');
  if (!dl) {
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    dl = h('datalist', { id: 'timezones' }, zones.map((z) => h('option', { value: z })));
    document.body.append(dl);
  }
  return 'timezones';
}

const enums = {
  provisioning_auth: ['token', 'digest'],
  device_auth: ['off', 'prefer', 'require'],
  sip_digest: ['md5', 'md5,sha-256', 'sha-256,md5', 'sha-256'],
  sip_transport: ['udp', 'tcp', 'tls'],
  srtp: ['off', 'optional', 'required'],
};

// groups: [title key, [[name, type]]]; types text, number, bool, lang, tz, enum, lines, sections.
const groups = [
  ['settings.g_general', [['name', 'text'], ['sip_domain', 'text'], ['language', 'lang'], ['timezone', 'tz']]],
  ['settings.g_numbers', [['ext_min', 'number'], ['ext_max', 'number'], ['emergency_numbers', 'lines']]],
  ['settings.g_flex', [['auto_logout', 'text'], ['flex_multi_login', 'bool'], ['pin_min_length', 'number']]],
  ['settings.g_provisioning', [['provisioning_auth', 'enum'], ['provisioning_https_only', 'bool'], ['device_auth', 'enum'],
    ['tftp_bare_names', 'bool'], ['pnp_subnets', 'lines'], ['action_rate', 'number']]],
  ['settings.g_sip', [['sip_digest', 'enum'], ['sip_transport', 'enum'], ['srtp', 'enum']]],
  ['settings.g_phonebook', [['anonymous_ldap', 'bool'], ['phonebook_mobile', 'bool'], ['ldap_require_tls', 'bool'],
    ['ldap_phonebook_cleartext', 'bool'], ['phonebook_ldaps', 'bool']]],
  ['settings.g_audit', [['audit_retention_days', 'number']]],
  ['settings.g_raw', [['settings', 'sections']]],
];

function input(name, type, value) {
  const id = 'set-' + name;
  switch (type) {
    case 'bool': return h('input', { type: 'checkbox', name, id, checked: !!value });
    case 'number': return h('input', { type: 'number', name, id, value: value === undefined ? '' : String(value) });
    case 'lang': return select({ name, id }, languageCodes.map((l) => ({ value: l, label: `${t('langname.' + l)} (${l})` })), value);
    case 'tz': return h('input', { name, id, value: value || '', list: timezoneList(), autocomplete: 'off' });
    case 'enum': {
      const opts = enums[name].slice();
      if (value && !opts.includes(value)) opts.unshift(value);
      return select({ name, id }, opts.map((o) => ({ value: o, label: o })), value);
    }
    case 'lines': return h('textarea', { name, id, rows: '3', spellcheck: 'false' }, (value || []).join('\n'));
    case 'sections': return h('textarea', { name, id, rows: '8', spellcheck: 'false', class: 'code' }, sectionsText(value));
    default: return h('input', { name, id, value: value || '', autocomplete: 'off' });
  }
}

function read(el, type) {
  switch (type) {
    case 'bool': return el.checked;
    case 'number': return el.value === '' ? null : Number(el.value);
    case 'lines': return el.value.split('\n').map((s) => s.trim()).filter(Boolean);
    case 'sections': return parseSections(el.value);
    default: return el.value.trim();
  }
}

export default {
  route: '#/settings',
  nav: 'nav.settings',
  permission: 'tenant.settings',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    let tenant = await api('GET', tpath(ctx, ''));
    el.append(h('h1', {}, t('settings.title', { tenant: tenant.name || tenant.slug })));
    const form = h('form', { id: 'settings-form', novalidate: true });
    const inputs = {};
    for (const [title, fields] of groups) {
      const fs = h('fieldset', {}, h('legend', {}, t(title)));
      for (const [name, type] of fields) {
        const inp = input(name, type, tenant[name]);
        inputs[name] = { el: inp, type };
        if (type === 'bool') {
          inp.setAttribute('aria-describedby', `${inp.id}-hint ${inp.id}-err`);
          fs.append(h('div', { class: 'field check' }, inp, h('label', { for: inp.id }, t('settings.' + name)),
            h('div', { class: 'hint', id: inp.id + '-hint' }, t('settings.' + name + '_hint')),
            h('div', { class: 'error', id: inp.id + '-err' })));
        } else {
          fs.append(field('settings.' + name, inp, 'settings.' + name + '_hint'));
        }
      }
      form.append(fs);
    }
    form.append(formError(), h('div', { class: 'actions sticky' }, h('button', { type: 'submit', class: 'primary', id: 'settings-save' }, t('common.save'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const patch = {};
      try {
        for (const [name, { el: inp, type }] of Object.entries(inputs)) {
          let v;
          try { v = read(inp, type); } catch (err) {
            throw Object.assign(err, { field: name });
          }
          if (JSON.stringify(v) !== JSON.stringify(type === 'sections' ? (tenant[name] || {}) : tenant[name])) patch[name] = v;
        }
        if (!Object.keys(patch).length) { toast(t('settings.nothing'), ''); return; }
        tenant = await api('PATCH', tpath(ctx, ''), patch);
        toast(t('screens.saved'), 'ok');
      } catch (err) { showErrors(form, err); }
    });
    el.append(form);

    // The tenant's credentials for phones and the phonebook (read-only), and a new token.
    if (tenant.provisioning_token) {
      const ro = (key, value, secret) => field(key, h('input', { readonly: true, value: value || '', type: secret ? 'password' : 'text',
        id: 'ro-' + key.replace(/\W/g, '-'), class: 'code' }));
      const grace = h('input', { name: 'grace', id: 'token-grace', value: '24h' });
      const rot = h('form', { id: 'token-form', novalidate: true },
        ro('settings.provisioning_url', tenant.provisioning_url), ro('settings.provisioning_token', tenant.provisioning_token),
        tenant.previous_token_expires ? h('p', { class: 'hint' }, t('settings.previous_token', { when: fmtDate(tenant.previous_token_expires) })) : null,
        field('settings.grace', grace, 'settings.grace_hint'), formError(),
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('settings.rotate'))),
        ro('settings.ldap_base_dn', tenant.ldap_base_dn), ro('settings.ldap_bind_dn', tenant.ldap_bind_dn),
        ro('settings.ldap_bind_password', tenant.ldap_bind_password, true));
      rot.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          await api('POST', tpath(ctx, '/provisioning-token/rotate'), { grace: grace.value.trim() });
          toast(t('settings.rotated'), 'ok');
          ctx.render();
        } catch (err) { showErrors(rot, err); }
      });
      el.append(section('settings.credentials', rot));
    }
  },
};
