// Signals as the workbench shows them: one list item per signal (its severity in words, not only
// a colour; its kind, client, one-line summary, when it is due), its evidence behind a
// disclosure (the figures and the rows they come from), and its actions: acknowledge, and
// dismiss with a reason (asked in place). Used by "My day" (views/my-day.js) and by a signal
// task's evidence there.
import { h } from '../dom.js';
import { label, t } from '../i18n.js';
import { dateIn } from '../format.js';

/** The severity as a badge with its word. */
export function severityBadge(severity) {
  const cls = severity === 'CRITICAL' ? 'bad' : severity === 'WARNING' ? 'warn' : 'off';
  return h('span', { class: ['badge', 'severity', cls], dataset: { severity } }, label('SignalSeverity', severity));
}

/** The figures and the rows behind a signal, as a disclosure. */
export function evidenceBlock(signal, idPrefix) {
  const figures = signal.figures || [];
  const refs = signal.evidence || [];
  return h('details', { class: 'evidence', id: `${idPrefix}-evidence-${signal.id}` },
    h('summary', {}, t('signalEvidence')),
    figures.length
      ? h('dl', { class: 'figures small' }, figures.map((f) => [
        h('dt', {}, label('SignalFigure', f.name)),
        h('dd', { dataset: { figure: f.name } }, f.text),
      ]))
      : null,
    refs.length
      ? h('p', { class: 'small muted evidence-refs' }, t('signalRows'), ' ',
        refs.map((r, i) => [i ? ', ' : '', refLink(signal, r)]))
      : null);
}

function refLink(signal, ref) {
  const text = t('signalRef', label('EvidenceKind', ref.kind), ref.id);
  // Transactions and accounts are on the client's page; the rest is named.
  if (ref.kind === 'transaction' || ref.kind === 'account' || ref.kind === 'agreement') {
    return h('a', { href: `#/client/${encodeURIComponent(signal.clientId)}`, dataset: { ref: `${ref.kind}:${ref.id}` } }, text);
  }
  return h('span', { dataset: { ref: `${ref.kind}:${ref.id}` } }, text);
}

/**
 * One signal as a list item.
 * @param {object} signal
 * @param {object} o
 * @param {string} o.prefix            id prefix (unique per list)
 * @param {string} o.timeZone          the user's time zone
 * @param {boolean} o.canAct           whether acknowledge / dismiss are offered
 * @param {boolean} [o.busy]
 * @param {boolean} [o.dismissing]     whether the reason form is open
 * @param {string} [o.draft]           the reason typed so far
 * @param {string} [o.error]           the reason form's error
 * @param {(signal: object, action: string, reason?: string) => void} o.onAction
 */
export function signalItem(signal, { prefix, timeZone, canAct, busy = false, dismissing = false, draft = '', error = '', onAction }) {
  const open = signal.state === 'OPEN' || signal.state === 'ACKNOWLEDGED';
  const reasonId = `${prefix}-reason-${signal.id}`;
  const actions = [];
  if (canAct && open) {
    if (signal.state === 'OPEN') {
      actions.push(h('button', {
        type: 'button', class: 'small secondary', id: `${prefix}-ack-${signal.id}`, disabled: busy,
        'aria-label': t('signalAckLabel', signal.title), on: { click: () => onAction(signal, 'acknowledge') },
      }, t('signalAck')));
    }
    if (!dismissing) {
      actions.push(h('button', {
        type: 'button', class: 'small secondary', id: `${prefix}-dismiss-${signal.id}`, disabled: busy,
        'aria-label': t('signalDismissLabel', signal.title), on: { click: () => onAction(signal, 'ask-dismiss') },
      }, t('signalDismiss')));
    }
  }
  const form = dismissing
    ? h('form', {
      class: 'dismiss-form', id: `${prefix}-dismiss-form-${signal.id}`, novalidate: true,
      on: {
        submit: (ev) => {
          ev.preventDefault();
          const input = ev.currentTarget.querySelector('textarea');
          onAction(signal, 'dismiss', input ? input.value : '');
        },
      },
    },
    h('label', { for: reasonId }, t('signalReason')),
    // The draft survives the list being drawn again (a live update while typing).
    h('textarea', {
      id: reasonId, name: 'reason', rows: 2, maxlength: 1000, required: true,
      'aria-invalid': error ? 'true' : null, 'aria-describedby': error ? `${reasonId}-error` : null,
      on: { input: (ev) => onAction(signal, 'draft', ev.target.value) },
    }, draft),
    error ? h('p', { class: 'error', id: `${reasonId}-error`, role: 'alert' }, error) : null,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'small', id: `${prefix}-dismiss-confirm-${signal.id}`, disabled: busy }, t('signalDismissConfirm')),
      h('button', { type: 'button', class: 'small secondary', disabled: busy, on: { click: () => onAction(signal, 'cancel-dismiss') } }, t('cancel'))))
    : null;
  return h('li', { class: ['signal', open ? null : 'closed'], dataset: { signalId: signal.id, kind: signal.kind, state: signal.state } },
    h('div', { class: 'task-main' },
      h('p', { class: 'task-title' },
        severityBadge(signal.severity), ' ',
        h('strong', {}, signal.title), ' ',
        signal.state === 'ACKNOWLEDGED' ? h('span', { class: 'badge off' }, label('SignalState', signal.state)) : null,
        open ? null : h('span', { class: 'badge off' }, label('SignalState', signal.state))),
      h('p', { class: 'signal-summary' }, signal.summary),
      h('p', { class: 'task-meta small' },
        signal.client
          ? [h('a', { href: `#/client/${encodeURIComponent(signal.clientId)}`, class: 'task-client' }, signal.client.displayName), ' · ']
          : null,
        signal.dueOn ? [h('span', {}, t('signalDueOn', dateIn(signal.dueOn, timeZone))), ' · '] : null,
        h('span', {}, t('signalRaisedOn', dateIn(signal.raisedAt, timeZone))),
        signal.task ? [' · ', h('span', { class: 'signal-task' }, t('signalTask', label('TaskStatus', signal.task.status)))] : null),
      evidenceBlock(signal, prefix),
      form),
    actions.length ? h('div', { class: 'task-actions' }, actions) : null);
}
