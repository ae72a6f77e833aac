// picker is the two-column chooser: what is assigned on the left, what is available on
// the right, each a multi-select list (keyboard: arrows, Shift/Ctrl to select more), with
// buttons that move the selected items across (double-click moves one). Nothing is
// saved here: the caller reads picked() and added()/removed() and saves through the API.
//
// opts: {id, name (of the assigned list: the API field its errors name), legendKey, assignedKey, availableKey, assigned: [items], available: [items],
//        key(item) → string, label(item) → string,
//        more: async () → {items, done} (loads more available items; optional),
//        addKey, parse(text) → item or throws Error (optional: a field that adds a typed
//        item to the available list, for numbers no list holds)}
import { t } from './i18n.js';
import { h, uid } from './ui.js';

export function picker(opts) {
  const id = opts.id || uid('picker');
  const original = new Set(opts.assigned.map(opts.key));
  const byKey = new Map();
  for (const it of [...opts.assigned, ...opts.available]) byKey.set(opts.key(it), it);
  let left = opts.assigned.map(opts.key);
  let right = opts.available.map(opts.key).filter((k) => !original.has(k));

  const leftSel = h('select', { id: id + '-assigned', multiple: true, size: 8, class: 'picker-list', name: opts.name || id + '-assigned' });
  const leftErr = h('div', { class: 'error', id: leftSel.id + '-err' });
  leftSel.setAttribute('aria-describedby', leftErr.id);
  const rightSel = h('select', { id: id + '-available', multiple: true, size: 8, class: 'picker-list', name: id + '-available' });
  const status = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });

  function fill(sel, keys) {
    const chosen = new Set([...sel.selectedOptions].map((o) => o.value));
    sel.replaceChildren(...keys.map((k) => h('option', { value: k, selected: chosen.has(k) }, opts.label(byKey.get(k)))));
  }
  function redraw() {
    fill(leftSel, left);
    fill(rightSel, right);
    leftCount.textContent = t('picker.count', { n: left.length });
    rightCount.textContent = t('picker.count', { n: right.length });
  }
  function move(fromSel, toRight) {
    const keys = [...fromSel.selectedOptions].map((o) => o.value);
    if (!keys.length) return;
    if (toRight) { left = left.filter((k) => !keys.includes(k)); right = [...keys, ...right]; } else { right = right.filter((k) => !keys.includes(k)); left = [...left, ...keys]; }
    redraw();
    const target = toRight ? rightSel : leftSel;
    for (const o of target.options) o.selected = keys.includes(o.value);
    status.textContent = t(toRight ? 'picker.moved_out' : 'picker.moved_in', { n: keys.length });
    if (opts.onChange) opts.onChange();
  }
  const toLeft = h('button', { type: 'button', class: 'picker-move', id: id + '-assign', onclick: () => move(rightSel, false) },
    '← ', t('picker.assign'));
  const toRight = h('button', { type: 'button', class: 'picker-move', id: id + '-unassign', onclick: () => move(leftSel, true) },
    t('picker.unassign'), ' →');
  leftSel.addEventListener('dblclick', () => move(leftSel, true));
  rightSel.addEventListener('dblclick', () => move(rightSel, false));

  const leftCount = h('span', { class: 'hint' });
  const rightCount = h('span', { class: 'hint' });
  const rightCol = h('div', { class: 'picker-col' },
    h('label', { for: rightSel.id }, t(opts.availableKey)), rightCount, rightSel);

  if (opts.more) {
    const moreBtn = h('button', { type: 'button', class: 'link', id: id + '-more' }, t('picker.more'));
    moreBtn.addEventListener('click', async () => {
      moreBtn.disabled = true;
      const ans = await opts.more();
      for (const it of ans.items) {
        const k = opts.key(it);
        if (byKey.has(k)) continue;
        byKey.set(k, it);
        right.push(k);
      }
      redraw();
      moreBtn.disabled = false;
      moreBtn.hidden = ans.done;
    });
    moreBtn.hidden = !!opts.moreDone;
    rightCol.append(moreBtn);
  }
  if (opts.parse) {
    const input = h('input', { id: id + '-add', name: id + '-add', type: 'text', autocomplete: 'off' });
    const err = h('div', { class: 'error', id: input.id + '-err' });
    input.setAttribute('aria-describedby', err.id);
    const add = () => {
      err.textContent = '';
      input.removeAttribute('aria-invalid');
      let it;
      try { it = opts.parse(input.value.trim()); } catch (e) {
        err.textContent = e.message;
        input.setAttribute('aria-invalid', 'true');
        return;
      }
      const k = opts.key(it);
      if (!byKey.has(k)) byKey.set(k, it);
      if (!left.includes(k) && !right.includes(k)) right.unshift(k);
      input.value = '';
      redraw();
      for (const o of rightSel.options) o.selected = o.value === k;
    };
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } });
    rightCol.append(h('div', { class: 'picker-add' },
      h('label', { for: input.id }, t(opts.addKey)),
      h('div', { class: 'row' }, input, h('button', { type: 'button', id: id + '-add-button', onclick: add }, t('picker.add'))), err));
  }

  const el = h('fieldset', { class: 'picker', id },
    h('legend', {}, t(opts.legendKey)),
    h('div', { class: 'picker-cols' },
      h('div', { class: 'picker-col' }, h('label', { for: leftSel.id }, t(opts.assignedKey)), leftCount, leftSel, leftErr),
      h('div', { class: 'picker-buttons' }, toLeft, toRight),
      rightCol),
    status);
  redraw();
  return {
    el,
    picked: () => left.map((k) => byKey.get(k)),
    pickedKeys: () => [...left],
    added: () => left.filter((k) => !original.has(k)),
    removed: () => [...original].filter((k) => !left.includes(k)),
    changed: () => left.length !== original.size || left.some((k) => !original.has(k)),
    // saved makes the current assignment the new starting point.
    saved: () => { original.clear(); left.forEach((k) => original.add(k)); },
  };
}
