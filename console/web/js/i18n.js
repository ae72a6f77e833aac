// Strings come from /i18n/<lang>.json, one flat catalogue per language (each string once).
// t(key, vars) looks a key up and fills {name} placeholders; dates and numbers use Intl in
// the user's locale.
//
// Write keys as literals where they are used — t('users.title'), field('login.email', …),
// nav: 'nav.users', confirmKey: 'common.delete' — so console/catalogue_test.go finds them
// and checks both catalogues hold them. A key made at run time keeps a literal prefix
// ending in '.' (t('lang.' + code)).

export const languages = ['en', 'nl'];
const locales = { en: 'en-GB', nl: 'nl-NL' };
let catalogue = {};
let current = '';

// pick chooses a supported language: the given one, the one saved in this browser, the
// browser's own, else English.
export function pick(lang) {
  const wanted = [lang, localStorage.getItem('dialtone.lang'), ...(navigator.languages || [])];
  for (const w of wanted) {
    const base = String(w || '').toLowerCase().split('-')[0];
    if (languages.includes(base)) return base;
  }
  return 'en';
}

export function language() { return current; }

export async function setLanguage(lang) {
  lang = languages.includes(lang) ? lang : pick(lang);
  if (lang === current) return;
  const r = await fetch(`/i18n/${lang}.json`, { credentials: 'same-origin' });
  if (!r.ok) throw new Error(`catalogue ${lang}: ${r.status}`);
  catalogue = await r.json();
  current = lang;
  document.documentElement.lang = lang;
  localStorage.setItem('dialtone.lang', lang);
  document.dispatchEvent(new CustomEvent('dialtone:language', { detail: lang }));
}

export function t(key, vars) {
  let s = catalogue[key];
  if (s === undefined) s = key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

export function locale() { return locales[current] || 'en-GB'; }

export function fmtDate(d, opts) {
  if (!d) return '';
  const date = d instanceof Date ? d : new Date(d);
  if (isNaN(date)) return '';
  return new Intl.DateTimeFormat(locale(), opts || { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function fmtNumber(n, opts) {
  return new Intl.NumberFormat(locale(), opts).format(n);
}
