// Pieces the views share.
import { h, replace } from '../dom.js';
import { label, t } from '../i18n.js';
import { moneyList, signedNumber } from '../format.js';

/**
 * Remembers the focused element (by id, with its text selection) and returns a function that
 * puts the focus back on the element with that id, for DOM that gets rebuilt in between.
 */
export function captureFocus() {
  const active = document.activeElement;
  const id = active && active !== document.body ? active.id : '';
  const selection = active && typeof active.selectionStart === 'number'
    ? [active.selectionStart, active.selectionEnd] : null;
  // `fallbacks`: ids to try, in order, when the element is gone or disabled now (e.g. "Next"
  // on the last page); only used when the focus was on `id` before.
  return (fallbacks = []) => {
    if (!id) return false;
    if (document.activeElement && document.activeElement !== document.body) return true;
    for (const candidate of [id, ...fallbacks]) {
      const again = document.getElementById(candidate);
      if (!again || again.disabled || again.hidden) continue;
      again.focus({ preventScroll: true });
      if (candidate === id && selection && typeof again.setSelectionRange === 'function') {
        try { again.setSelectionRange(selection[0], selection[1]); } catch (e) { /* not a text input */ }
      }
      return true;
    }
    return false;
  };
}

/** Runs `fn` (which rebuilds DOM) and puts the focus back on the element with the same id. */
export function preserveFocus(fn) {
  const restore = captureFocus();
  fn();
  restore();
}

/**
 * The line under a view's heading: "Loading…", or an error with a Retry button, or nothing.
 * @param {HTMLElement} el  the status element (role=status / alert is set here)
 */
export function renderStatus(el, { loading, error, onRetry, retryId }) {
  el.classList.toggle('error', Boolean(error));
  el.setAttribute('role', error ? 'alert' : 'status');
  if (error) {
    replace(el, h('span', {}, error), ' ',
      onRetry ? h('button', { type: 'button', class: 'link', id: retryId, on: { click: onRetry } }, t('retry')) : null);
  } else if (loading) {
    replace(el, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('loading'));
  } else {
    replace(el);
  }
}

/** A/B/C badge, or a dash when the client is not rated; the factors go to the tooltip. */
export function gradeBadge(rating) {
  if (!rating) return h('span', { class: 'muted' }, t('none'));
  const tip = (rating.factors || [])
    .map((f) => `${f.name}: ${f.value} (${signedNumber(f.impact)})`)
    .join('\n');
  return h('span', {
    class: ['badge', `grade-${String(rating.grade).toLowerCase()}`],
    title: tip ? `${t('factorsTitle')}:\n${tip}` : null,
  }, rating.grade);
}

/** ACTIVE / INACTIVE badge. */
export function statusBadge(status) {
  return h('span', { class: ['badge', status === 'ACTIVE' ? 'ok' : 'off'] }, label('ClientStatus', status));
}

/** Money per currency, one line each. */
export function moneyLines(list) {
  const lines = moneyList(list);
  if (!lines.length) return h('span', { class: 'muted' }, t('none'));
  return lines.map((s, i) => [i ? h('br') : null, s]);
}

/** Distinct bank names of a client's links, comma separated. */
export function bankNames(links) {
  const names = [...new Set((links || []).map((l) => l.bank && l.bank.name).filter(Boolean))];
  return names.length ? names.join(', ') : t('none');
}

/**
 * The text for a form's error: the server's refusal of what was typed (`BAD_USER_INPUT`, whose
 * message says what is wrong) with a lead-in in the interface language; anything else as
 * everywhere (ctx.errorMessage).
 */
export function formError(ctx, e) {
  if (e && e.code === 'BAD_USER_INPUT') return t('errInput', e.message);
  return ctx.errorMessage(e);
}

/** `t(key, ...args)` later: a message kept as this function is shown in the language of the moment. */
export function later(key, ...args) {
  return () => t(key, ...args);
}

/** The text of a message kept as a function (see `later`) or as a string. */
export function say(message) {
  return typeof message === 'function' ? message() : (message || '');
}

/** Whether the signed-in user may change data (managers and administrators, not viewers). */
export function canChange(ctx) {
  const u = ctx.user();
  return Boolean(u && u.role !== 'VIEWER');
}
