// Models and templates: the model table with each model's raw settings and firmware
// (target, staged rollout, rollout, rollback), firmware uploads with a progress bar, and
// the config templates (view, override, back to the built-in one).
import { api, apiUpload } from '../api.js';
import { t, fmtDate, fmtNumber } from '../i18n.js';
import { h, clear, field, formError, select, showErrors, toast, confirmDialog } from '../ui.js';
import { tpath, table, section, progress, settingsText, parseSettings, errorLine } from '../screens.js';

const digests = ['', 'md5', 'md5,sha-256', 'sha-256,md5', 'sha-256'];

function stageText(m) {
  if (!m.stage) return '—';
  const who = m.stage.percent ? t('models.stage_percent', { n: m.stage.percent }) : t('models.stage_macs', { n: (m.stage.macs || []).length });
  return `${m.stage.firmware} (${who})`;
}

export default {
  route: '#/models',
  nav: 'nav.models',
  permission: 'phones.manage',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    el.append(h('h1', {}, t('models.title')));
    const modelBox = h('div', {});
    const editBox = h('div', { id: 'model-edit' });
    const fwBox = h('div', {});
    el.append(section('models.models', modelBox), editBox);
    let firmware = [];

    async function loadFirmware() {
      const ans = await api('GET', tpath(ctx, '/firmware?limit=1000'));
      firmware = ans.items || [];
      clear(fwBox).append(table('firmware-table', [
        { key: 'models.fw_name', cell: (f) => f.name },
        { key: 'models.model', cell: (f) => `${f.make || ''} ${f.model || ''}`.trim() || '—' },
        { key: 'models.fw_version', cell: (f) => f.version || '—' },
        { key: 'models.fw_size', cell: (f) => fmtNumber(f.size) },
        { key: 'models.fw_uploaded', cell: (f) => fmtDate(f.uploaded) },
        { key: 'models.fw_target_of', cell: (f) => (f.target_of || []).join(', ') || '—' },
        { key: 'models.actions', cell: (f) => h('button', { type: 'button', class: 'danger', 'aria-label': t('models.fw_delete_of', { name: f.name }),
          onclick: async () => {
            if (!await confirmDialog({ title: t('models.fw_delete_title', { name: f.name }), body: t('models.fw_delete_body'), confirmKey: 'models.fw_delete', danger: true })) return;
            try { await api('DELETE', tpath(ctx, `/firmware/${encodeURIComponent(f.name)}`)); await loadFirmware(); } catch (err) { toast(err.message, 'error'); }
          } }, t('models.fw_delete')) },
      ], firmware, 'models.fw_empty'));
    }

    async function loadModels() {
      const ans = await api('GET', tpath(ctx, '/models'));
      const items = ans.items || [];
      clear(modelBox).append(table('models-table', [
        { key: 'models.model', cell: (m) => h('button', { type: 'button', class: 'link', onclick: () => edit(m) }, `${m.make} ${m.model}`) },
        { key: 'models.firmware', cell: (m) => m.firmware || '—' },
        { key: 'models.stage', cell: stageText },
        { key: 'models.previous', cell: (m) => m.previous_firmware || '—' },
        { key: 'models.settings_count', cell: (m) => fmtNumber(Object.keys(m.settings || {}).length) },
      ], items, 'models.empty'));
      return items;
    }

    function edit(m) {
      const path = tpath(ctx, `/models/${encodeURIComponent(m.model)}`);
      const settings = h('textarea', { name: 'settings', id: 'model-settings', rows: '8', spellcheck: 'false', class: 'code' }, settingsText(m.settings));
      const digest = select({ name: 'sip_digest', id: 'model-digest' }, digests.map((d) => ({ value: d, label: d || t('models.digest_tenant') })), m.sip_digest || '');
      const form = h('form', { id: 'model-form', novalidate: true }, field('models.settings', settings, 'models.settings_hint'),
        field('models.sip_digest', digest), formError(), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          const body = { firmware: m.firmware || '', settings: parseSettings(settings.value), sip_digest: digest.value };
          m = await api('PUT', path, body);
          toast(t('screens.saved'), 'ok');
          await loadModels();
        } catch (err) { showErrors(form, err); }
      });
      // Firmware of this model: target it for all, or stage it for some first.
      const mine = firmware.filter((f) => !f.model || f.model.toLowerCase() === m.model.toLowerCase());
      const fw = select({ name: 'firmware', id: 'model-fw' }, mine.map((f) => ({ value: f.name, label: f.version ? `${f.name} (${f.version})` : f.name })), m.firmware);
      const percent = h('input', { type: 'number', name: 'percent', id: 'model-percent', min: '1', max: '100', value: '10' });
      const fwForm = h('form', { id: 'model-fw-form', novalidate: true }, field('models.fw_choose', fw), field('models.percent', percent, 'models.percent_hint'), formError());
      const act = (label, id, fn) => h('button', { type: 'button', id, onclick: async () => {
        try { await fn(); toast(t('screens.saved'), 'ok'); await loadModels(); edit(m); } catch (err) { showErrors(fwForm, err); }
      } }, t(label));
      const post = async (what, body) => { m = await api('POST', `${path}/firmware/${what}`, body); };
      fwForm.append(h('div', { class: 'actions' },
        act('models.target', 'model-target', () => post('target', { firmware: fw.value })),
        act('models.stage_button', 'model-stage', () => post('stage', { firmware: fw.value, percent: Number(percent.value) })),
        m.stage ? act('models.rollout', 'model-rollout', () => post('rollout', {})) : null,
        m.previous_firmware ? act('models.rollback', 'model-rollback', () => post('rollback', {})) : null));
      clear(editBox).append(section('models.edit_title', h('p', {}, `${m.make} ${m.model}`), form,
        h('h3', {}, t('models.firmware')), h('p', { class: 'hint' }, t('models.current', { fw: m.firmware || '—', stage: stageText(m) })), fwForm));
      settings.focus();
    }

    const models = await loadModels();
    await loadFirmware();

    // Upload firmware, streamed, with a progress bar.
    const file = h('input', { type: 'file', name: 'file', id: 'fw-file' });
    const name = h('input', { name: 'name', id: 'fw-name', autocomplete: 'off' });
    const model = select({ name: 'model', id: 'fw-model' }, [{ value: '', label: t('models.fw_any_model') },
      ...models.map((m) => ({ value: m.model, label: `${m.make} ${m.model}` }))], '');
    const version = h('input', { name: 'version', id: 'fw-version', autocomplete: 'off' });
    const bar = progress('fw-progress', 'models.fw_idle');
    bar.el.hidden = true;
    file.addEventListener('change', () => { if (file.files[0] && !name.value) name.value = file.files[0].name; });
    const up = h('form', { id: 'fw-upload', novalidate: true }, field('models.fw_file', file), field('models.fw_name', name, 'models.fw_name_hint'),
      field('models.model', model), field('models.fw_version', version), formError(),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('models.fw_upload'))), bar.el);
    up.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = file.files[0];
      if (!f) { showErrors(up, { field: 'file', message: t('models.fw_no_file') }); return; }
      const q = new URLSearchParams({ name: name.value.trim() || f.name });
      if (model.value) q.set('model', model.value);
      if (version.value.trim()) q.set('version', version.value.trim());
      bar.el.hidden = false;
      try {
        await apiUpload(tpath(ctx, '/firmware'), f, (sent, total) => bar.set(sent, total, 'models.fw_sending'),
          { query: '?' + q.toString(), contentType: 'application/octet-stream' });
        bar.set(f.size, f.size, 'models.fw_done');
        up.reset();
        await loadFirmware();
      } catch (err) { bar.el.hidden = true; showErrors(up, err); }
    });
    el.append(section('models.fw_title', fwBox, h('h3', {}, t('models.fw_upload_title')), up));

    // Templates: the built-in ones and their overrides (changing one is for the default
    // tenant's system owners and admins).
    const tplBox = h('div', {});
    const tplEdit = h('div', { id: 'template-edit' });
    el.append(section('models.templates', tplBox, tplEdit));
    async function openTemplate(tp) {
      const r = await fetch(`/api/v1${tpath(ctx, '/templates/' + encodeURIComponent(tp.name))}`, { credentials: 'same-origin', cache: 'no-store' });
      const text = h('textarea', { name: 'template', id: 'template-text', rows: '16', spellcheck: 'false', class: 'code' }, await r.text());
      const form = h('form', { id: 'template-form', novalidate: true }, field('models.template_text', text, 'models.template_hint'), formError(),
        h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'primary' }, t('models.template_save')),
          tp.overridden ? h('button', { type: 'button', class: 'danger', onclick: async () => {
            try { await api('DELETE', tpath(ctx, '/templates/' + encodeURIComponent(tp.name))); toast(t('models.template_reverted'), 'ok'); clear(tplEdit); await loadTemplates(); } catch (err) { showErrors(form, err); }
          } }, t('models.template_revert')) : null));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          await apiUpload(tpath(ctx, '/templates/' + encodeURIComponent(tp.name)), new Blob([text.value]), null, { method: 'PUT', contentType: 'text/plain; charset=utf-8' });
          toast(t('screens.saved'), 'ok');
          await loadTemplates();
        } catch (err) {
          if (err.details && err.details.line) err.message = t('models.template_line', { line: err.details.line, message: err.message });
          err.field = 'template';
          showErrors(form, err);
        }
      });
      clear(tplEdit).append(h('h3', {}, tp.name), form);
    }
    async function loadTemplates() {
      const ans = await api('GET', tpath(ctx, '/templates'));
      clear(tplBox).append(table('templates-table', [
        { key: 'models.template', cell: (tp) => h('button', { type: 'button', class: 'link', onclick: () => openTemplate(tp).catch((err) => tplEdit.replaceChildren(errorLine(err))) }, tp.name) },
        { key: 'models.template_source', cell: (tp) => t(tp.overridden ? 'models.overridden' : 'models.builtin') },
        { key: 'models.template_modified', cell: (tp) => (tp.modified ? fmtDate(tp.modified) : '—') },
      ], ans.items || [], 'models.templates_empty'));
    }
    await loadTemplates();
  },
};
