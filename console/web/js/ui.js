// Building blocks for views. Nothing here sets innerHTML: text is always text. No style
// attributes either (the CSP refuses inline style): give elements classes from app.css.
import { t, setLanguage, languages, language } from './i18n.js';

let ids = 0;
export function uid(prefix = 'f') { ids += 1; return `${prefix}-${ids}`; }

// h(tag, attrs, ...children) builds an element. attrs: class, text, on<Event> (functions),
// dataset ({...}), booleans (true sets, false leaves out), anything else as an attribute.
// Children: nodes, strings (as text), arrays, null/false (skipped).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// clear empties an element.
export function clear(el) { el.replaceChildren(); return el; }

// field wraps an input with its label and an error slot (aria-describedby). The input's
// name is what showErrors matches the API's "field" against.
export function field(labelKey, input, hintKey) {
  if (!input.id) input.id = uid();
  const err = h('div', { class: 'error', id: input.id + '-err' });
  const describedBy = [err.id];
  let hint = null;
  if (hintKey) {
    hint = h('div', { class: 'hint', id: input.id + '-hint' }, t(hintKey));
    describedBy.push(hint.id);
  }
  input.setAttribute('aria-describedby', describedBy.join(' '));
  return h('div', { class: 'field' }, h('label', { for: input.id }, t(labelKey)), input, hint, err);
}

// formError is the slot for errors that name no field; put one in every form.
export function formError() { return h('div', { class: 'form-error', role: 'alert' }); }

export function clearErrors(form) {
  form.querySelectorAll('.error').forEach((e) => { e.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const fe = form.querySelector('.form-error');
  if (fe) fe.textContent = '';
}

// showErrors puts an ApiError's message next to the field it names (matched by name, also
// "extensions[0]" → "extensions"), else in the form's error slot, and focuses it.
export function showErrors(form, err) {
  clearErrors(form);
  const msg = err && err.message ? err.message : String(err);
  const name = err && err.field ? String(err.field) : '';
  let input = null;
  if (name) {
    const base = name.replace(/\[.*$/, '').replace(/\..*$/, '');
    input = form.querySelector(`[name="${CSS.escape(name)}"]`) || form.querySelector(`[name="${CSS.escape(base)}"]`);
  }
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    const slot = document.getElementById(input.id + '-err');
    if (slot) slot.textContent = msg;
    input.focus();
    return;
  }
  const fe = form.querySelector('.form-error');
  if (fe) fe.textContent = msg;
  else toast(msg, 'error');
}

// toast shows a short message for a few seconds (announced to screen readers).
export function toast(message, kind = '') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: 'toast ' + kind }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

// confirmDialog asks before something happens; resolves true when confirmed.
// opts: {title, body (node or text), confirmKey, danger}
export function confirmDialog(opts) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const dlg = h('dialog', { 'aria-labelledby': titleId },
      h('h2', { id: titleId }, opts.title),
      opts.body instanceof Node ? opts.body : h('p', {}, opts.body || ''),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: opts.danger ? 'danger' : 'primary', onclick: () => done(true) },
          t(opts.confirmKey || 'common.confirm')),
        h('button', { type: 'button', onclick: () => done(false) }, t('common.cancel'))));
    let answered = false;
    function done(v) {
      if (answered) return;
      answered = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    dlg.addEventListener('cancel', () => done(false));
    document.body.append(dlg);
    dlg.showModal();
  });
}

// menu is the ⋮ menu: a button that opens a list of actions (keyboard: arrows, Escape).
// items: [{label, onSelect, danger, disabled}]
export function menu(labelText, items) {
  const listId = uid('menu');
  const list = h('div', { role: 'menu', id: listId, hidden: true });
  const btn = h('button', { type: 'button', class: 'menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-controls': listId, 'aria-label': labelText, title: labelText }, '⋮');
  const wrap = h('div', { class: 'menu' }, btn, list);
  const buttons = items.map((it) => h('button', { type: 'button', role: 'menuitem', class: it.danger ? 'danger' : '',
    disabled: it.disabled, tabindex: '-1', onclick: () => { close(); it.onSelect(); } }, it.label));
  list.append(...buttons);
  function open() {
    list.hidden = false;
    btn.setAttribute('aria-expanded', 'true');
    const first = buttons.find((b) => !b.disabled);
    if (first) first.focus();
    document.addEventListener('click', outside, true);
  }
  function close(focus) {
    list.hidden = true;
    btn.setAttribute('aria-expanded', 'false');
    document.removeEventListener('click', outside, true);
    if (focus) btn.focus();
  }
  function outside(e) { if (!wrap.contains(e.target)) close(); }
  btn.addEventListener('click', () => (list.hidden ? open() : close(true)));
  list.addEventListener('keydown', (e) => {
    const live = buttons.filter((b) => !b.disabled);
    const i = live.indexOf(document.activeElement);
    if (e.key === 'Escape') { e.preventDefault(); close(true); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); live[(i + 1) % live.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); live[(i - 1 + live.length) % live.length].focus(); }
    else if (e.key === 'Tab') close();
  });
  return wrap;
}

// select builds a <select> from [{value, label}].
export function select(attrs, options, value) {
  return h('select', attrs, options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
}

// languageSwitch is the EN/NL choice (login page and top bar); onChange re-renders.
export function languageSwitch(id, onChange) {
  const sel = select({ id, onchange: async (e) => {
    await setLanguage(e.target.value);
    if (onChange) onChange(e.target.value);
  } }, languages.map((l) => ({ value: l, label: t('lang.' + l) })), language());
  return h('span', { class: 'lang-switch' }, h('label', { for: id }, t('lang.label')), ' ', sel);
}
