// Mail outbox: mail not (yet) handed to the SMTP server, oldest first, with its attempts
// and last error. Links in bodies are shown without their token.
import { t } from '../i18n.js';
import { h } from '../ui.js';
import { tpath, pagedTable, when } from '../screens.js';

export default {
  route: '#/outbox',
  nav: 'nav.outbox',
  permission: 'tenant.settings',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    el.append(h('h1', {}, t('outbox.title')), h('p', { class: 'hint' }, t('outbox.intro')));
    await pagedTable(el, 'outbox-table', tpath(ctx, '/outbox'), [
      { key: 'outbox.to', cell: (m) => m.to },
      { key: 'outbox.kind', cell: (m) => t('outbox.kind.' + m.kind) },
      { key: 'outbox.subject', cell: (m) => h('details', {}, h('summary', {}, m.subject), h('pre', { class: 'mail' }, m.body)) },
      { key: 'outbox.created', cell: (m) => when(m.created) },
      { key: 'outbox.attempts', cell: (m) => String(m.attempts) },
      { key: 'outbox.next', cell: (m) => when(m.next_attempt) },
      { key: 'outbox.error', cell: (m) => m.last_error || '—' },
    ], 'outbox.empty');
  },
};
