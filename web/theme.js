// Light and dark themes: the system's choice (prefers-color-scheme) unless the user picked one
// with the header toggle; the pick is remembered. theme-boot.js applies it before first paint.
const KEY = 'ai-crm.theme';
const MODES = ['system', 'light', 'dark'];
const listeners = new Set();
const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

function read() {
  try {
    const v = localStorage.getItem(KEY);
    return MODES.includes(v) ? v : 'system';
  } catch (e) {
    return 'system';
  }
}

let mode = read();

/** 'system' | 'light' | 'dark' */
export function themeMode() {
  return mode;
}

/** The theme in effect: 'light' or 'dark'. */
export function effectiveTheme() {
  if (mode !== 'system') return mode;
  return media && media.matches ? 'dark' : 'light';
}

function apply() {
  const root = document.documentElement;
  if (mode === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', mode);
  for (const fn of listeners) fn(mode);
}

export function setThemeMode(next) {
  if (!MODES.includes(next)) return;
  mode = next;
  try {
    if (next === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, next);
  } catch (e) { /* remembered for this page only */ }
  apply();
}

/** system → light → dark → system */
export function nextThemeMode() {
  return MODES[(MODES.indexOf(mode) + 1) % MODES.length];
}

export function onThemeChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

if (media && media.addEventListener) media.addEventListener('change', () => { if (mode === 'system') apply(); });
apply();
