// CSV import: choose a file, check it (a dry run: every row's result and every error by
// line and column), then import it with a progress bar. Both run as import jobs
// (POST …/users/import?async=true, polled at …/users/import/jobs/{id}).
import { apiUpload, api, ApiError } from '../api.js';
import { t, fmtNumber } from '../i18n.js';
import { h, clear, field, formError, select, showErrors, toast } from '../ui.js';
import { tpath, table, progress } from '../screens.js';

const poll = (ms) => new Promise((r) => setTimeout(r, ms));

// runJob uploads the file as a job and follows it to its end; bar shows the upload, then
// the phases. Answers the job (state done or failed).
async function runJob(ctx, file, query, bar) {
  const job = await apiUpload(tpath(ctx, '/users/import'), file,
    (sent, total) => bar.set(sent, total, 'import.uploading'), { contentType: 'text/csv', query });
  let j = job;
  for (;;) {
    if (j.state === 'done' || j.state === 'failed') return j;
    if (j.state === 'checking' || j.state === 'importing') bar.set(j.done, j.total, 'import.' + j.state);
    else bar.set(0, 1, 'import.queued');
    await poll(j.total > 5000 ? 500 : 200);
    j = await api('GET', tpath(ctx, `/users/import/jobs/${encodeURIComponent(job.id)}`));
  }
}

function issueTable(id, issues, emptyKey) {
  return table(id, [
    { key: 'import.line', cell: (i) => fmtNumber(i.line) },
    { key: 'import.column', cell: (i) => i.column || '—' },
    { key: 'import.message', cell: (i) => i.message },
  ], issues || [], emptyKey);
}

// rowsTable lists each row's result: a user made (or to be made), a duplicate's fate, an error.
function rowsTable(res, dry) {
  const rows = [];
  for (const u of res.users || []) {
    rows.push({ line: u.line, name: u.name, result: t(dry ? 'import.would_create' : 'import.created'),
      ext: (u.extensions || []).join(', '), pin: u.pin || '', password: u.password || '' });
  }
  for (const d of (res.duplicates || []).filter((x) => x.action !== 'created')) {
    rows.push({ line: d.line, name: d.name || '', result: t('import.duplicate.' + (d.action || 'skipped')), ext: '', pin: '', password: '' });
  }
  rows.sort((a, b) => a.line - b.line);
  const cols = [
    { key: 'import.line', cell: (r) => fmtNumber(r.line) },
    { key: 'import.name', cell: (r) => r.name },
    { key: 'import.result', cell: (r) => r.result },
    { key: 'import.extensions', cell: (r) => r.ext },
  ];
  if (!dry) {
    cols.push({ key: 'import.pin', cell: (r) => r.pin }, { key: 'import.password', cell: (r) => r.password });
  }
  // A big file's every row would make a slow page: the first maxRows are shown.
  const shown = table('import-rows', cols, rows.slice(0, maxRows), 'import.no_rows');
  if (rows.length <= maxRows) return shown;
  return h('div', {}, h('p', { class: 'hint' }, t('import.rows_cut', { n: fmtNumber(maxRows), total: fmtNumber(rows.length) })), shown);
}

const maxRows = 2000;

export default {
  route: '#/import',
  nav: 'nav.import',
  permission: 'users.manage',
  async render(main, params, ctx) {
    const el = main.appendChild(document.createElement('div')); // detached by a newer render's clear(main)
    el.append(h('h1', {}, t('import.title')), h('p', {}, t('import.intro')));
    const fileInput = h('input', { type: 'file', name: 'file', id: 'import-file', accept: '.csv,.txt,text/csv' });
    const dup = select({ name: 'on_duplicate', id: 'import-dup' }, ['skip', 'update', 'create'].map((v) => ({ value: v, label: t('import.dup.' + v) })), 'skip');
    const check = h('button', { type: 'submit', class: 'primary', id: 'import-check' }, t('import.check'));
    const run = h('button', { type: 'button', id: 'import-run', disabled: true }, t('import.run'));
    const form = h('form', { id: 'import-form', novalidate: true },
      field('import.file', fileInput, 'import.file_hint'), field('import.on_duplicate', dup, 'import.on_duplicate_hint'),
      formError(), h('div', { class: 'actions' }, check, run));
    const bar = progress('import-progress', 'import.idle');
    bar.el.hidden = true;
    const report = h('div', { id: 'import-report' });
    el.append(form, bar.el, report);

    let checked = null; // the file a clean dry run passed
    fileInput.addEventListener('change', () => { checked = null; run.disabled = true; clear(report); });
    dup.addEventListener('change', () => { checked = null; run.disabled = true; });

    async function go(dry) {
      const file = fileInput.files && fileInput.files[0];
      if (!file) {
        showErrors(form, new ApiError(400, { error: { code: 'invalid', field: 'file', message: t('import.no_file') } }));
        return;
      }
      check.disabled = true; run.disabled = true;
      clear(report);
      bar.el.hidden = false;
      bar.set(0, file.size, 'import.uploading');
      const query = `?async=true&on_duplicate=${dup.value}${dry ? '&dry_run=true' : ''}`;
      try {
        const j = await runJob(ctx, file, query, bar);
        show(j, dry, file);
      } catch (err) {
        bar.el.hidden = true;
        showErrors(form, err);
      } finally {
        check.disabled = false;
        run.disabled = checked !== file;
      }
    }

    function show(j, dry, file) {
      if (j.state === 'failed') {
        const e = j.error || {};
        bar.set(0, 1, 'import.failed');
        const details = j.details || {};
        report.append(h('p', { class: 'form-error', role: 'alert', id: 'import-failed' }, e.message || ''));
        if (details.errors && details.errors.length) {
          report.append(h('h2', {}, t('import.errors_title', { n: fmtNumber(details.errors.length) })),
            issueTable('import-errors', details.errors));
        }
        return;
      }
      const res = j.result || {};
      bar.set(j.total || res.rows || 0, j.total || res.rows || 0, dry ? 'import.checked' : 'import.done', { rows: fmtNumber(res.rows || 0) });
      if (dry) {
        checked = file;
        report.append(h('p', { role: 'status', id: 'import-summary' }, t('import.dry_summary',
          { rows: fmtNumber(res.rows || 0), users: fmtNumber((res.users || []).length), dups: fmtNumber((res.duplicates || []).length) })));
      } else {
        checked = null;
        toast(t('import.done_toast', { users: fmtNumber((res.users || []).length) }), 'ok');
        report.append(h('p', { role: 'status', id: 'import-summary' }, t('import.real_summary',
          { users: fmtNumber((res.users || []).length), depts: fmtNumber((res.departments_created || []).length) })),
        h('p', { class: 'hint' }, t('import.secrets_once')));
      }
      if ((res.warnings || []).length) {
        report.append(h('h2', {}, t('import.warnings_title')), issueTable('import-warnings', res.warnings));
      }
      report.append(h('h2', {}, t('import.rows_title')), rowsTable(res, dry));
    }

    form.addEventListener('submit', (e) => { e.preventDefault(); go(true); });
    run.addEventListener('click', () => go(false));
  },
};
