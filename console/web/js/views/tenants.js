// Tenants: the tenants this person reaches (their own and those they manage), switching
// to one, and creating a tenant (tenant.settings in the default tenant: the System
// Owner); the new tenant joins the creator's managed tenants and the tenant menu.
import { api } from '../api.js';
import { t, fmtDate } from '../i18n.js';
import { h, clear, field, formError, select, showErrors, toast } from '../ui.js';
import { table, section } from '../screens.js';
import { languageCodes, timezoneList } from './settings.js';

// switchTenant makes slug the tenant being worked on, as the tenant menu does.
export function switchTenant(ctx, slug) {
  ctx.tenant = slug;
  sessionStorage.setItem('dialtone.tenant', slug);
  ctx.render();
}

export default {
  route: '#/tenants',
  nav: 'nav.tenants',
  permission: 'tenant.settings',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    el.append(h('h1', {}, t('tenants.title')));
    const listBox = h('div', {});
    el.append(section('tenants.list', listBox));
    async function load() {
      const ans = await api('GET', '/tenants?limit=1000');
      clear(listBox).append(table('tenants-table', [
        { key: 'tenants.slug', cell: (x) => x.slug },
        { key: 'tenants.name', cell: (x) => x.name || '—' },
        { key: 'tenants.sip_domain', cell: (x) => x.sip_domain || '—' },
        { key: 'tenants.range', cell: (x) => `${x.ext_min}–${x.ext_max}` },
        { key: 'tenants.created', cell: (x) => fmtDate(x.created) },
        { key: 'tenants.actions', cell: (x) => (x.slug === ctx.tenant ? h('span', { class: 'badge' }, t('tenants.current'))
          : h('button', { type: 'button', onclick: () => switchTenant(ctx, x.slug), 'aria-label': t('tenants.work_in_of', { slug: x.slug }) }, t('tenants.work_in'))) },
      ], ans.items || [], 'tenants.empty'));
    }
    await load();

    if (ctx.me.tenant !== 'default' || ctx.me.view_as_by) {
      el.append(h('p', { class: 'hint' }, t('tenants.create_where')));
      return;
    }
    const slug = h('input', { name: 'slug', id: 'tenant-slug', autocomplete: 'off' });
    const name = h('input', { name: 'name', id: 'tenant-name', autocomplete: 'off' });
    const domain = h('input', { name: 'sip_domain', id: 'tenant-domain', autocomplete: 'off' });
    const lang = select({ name: 'language', id: 'tenant-language' }, languageCodes.map((l) => ({ value: l, label: `${t('langname.' + l)} (${l})` })), 'en');
    const tz = h('input', { name: 'timezone', id: 'tenant-timezone', list: timezoneList(), value: 'Europe/Amsterdam', autocomplete: 'off' });
    const min = h('input', { type: 'number', name: 'ext_min', id: 'tenant-min', value: '100' });
    const max = h('input', { type: 'number', name: 'ext_max', id: 'tenant-max', value: '999' });
    const form = h('form', { id: 'tenant-create', novalidate: true }, field('tenants.slug', slug, 'tenants.slug_hint'), field('tenants.name', name),
      field('tenants.sip_domain', domain, 'tenants.sip_domain_hint'), field('tenants.language', lang), field('tenants.timezone', tz),
      h('div', { class: 'row' }, field('tenants.ext_min', min), field('tenants.ext_max', max)), formError(),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('tenants.create'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const body = { slug: slug.value.trim(), name: name.value.trim(), language: lang.value, timezone: tz.value.trim(),
          ext_min: Number(min.value), ext_max: Number(max.value) };
        if (domain.value.trim()) body.sip_domain = domain.value.trim();
        const made = await api('POST', '/tenants', body);
        toast(t('tenants.created_toast', { slug: made.slug }), 'ok');
        await ctx.reloadMe(); // the tenant menu lists it now
        ctx.render();
      } catch (err) { showErrors(form, err); }
    });
    el.append(section('tenants.create_title', form));
  },
};
