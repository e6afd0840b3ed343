// Tasks as the workbench shows them (views/my-day.js, the client's "Notes & tasks" tab): one
// list item per task with its title, client, priority, due time in the user's time zone, an
// "overdue" word (not only a colour) and its actions; and the actions themselves.
import { h } from '../dom.js';
import { label, t } from '../i18n.js';
import { dateTimeIn } from '../format.js';
import { CANCEL_TASK, COMPLETE_TASK, REOPEN_TASK } from '../queries.js';
import { evidenceBlock, severityBadge } from './signals.js';

const ACTIONS = {
  complete: { query: COMPLETE_TASK, field: 'completeTask', done: 'taskCompleted' },
  reopen: { query: REOPEN_TASK, field: 'reopenTask', done: 'taskReopened' },
  cancel: { query: CANCEL_TASK, field: 'cancelTask', done: 'taskCancelled' },
};

/** The priority as a badge; urgent and high ones stand out. */
export function priorityBadge(priority) {
  const cls = priority === 'URGENT' ? 'bad' : priority === 'HIGH' ? 'warn' : 'off';
  return h('span', { class: ['badge', 'priority', cls], dataset: { priority } }, label('TaskPriority', priority));
}

/**
 * One task as a list item.
 * @param {object} task
 * @param {object} o
 * @param {string} o.prefix         id prefix of its buttons (unique per list)
 * @param {string} o.timeZone       the user's time zone (due times read on its clock)
 * @param {(id: string) => string|null} [o.clientName]  a link to the client when given
 * @param {string[]} o.actions      which of complete / reopen / cancel / edit to offer
 * @param {(task: object, action: string) => void} o.onAction
 * @param {boolean} [o.busy]
 */
export function taskItem(task, { prefix, timeZone, clientName, actions, onAction, busy = false }) {
  const open = task.status === 'OPEN';
  // Reopen a closed task; complete, cancel or edit an open one.
  const offered = actions.filter((a) => (a === 'reopen' ? !open : open));
  const name = clientName && task.clientId ? clientName(task.clientId) : null;
  return h('li', {
    class: ['task', task.overdue ? 'overdue' : null, open ? null : 'closed'],
    dataset: { taskId: task.id, status: task.status },
  },
  h('div', { class: 'task-main' },
    h('p', { class: 'task-title' },
      h('strong', {}, task.title), ' ',
      priorityBadge(task.priority),
      task.overdue ? h('span', { class: 'badge bad overdue-mark' }, t('taskOverdue')) : null,
      open ? null : h('span', { class: 'badge off' }, label('TaskStatus', task.status))),
    h('p', { class: 'task-meta small' },
      clientName && task.clientId
        ? [h('a', { href: `#/client/${encodeURIComponent(task.clientId)}`, class: 'task-client' }, name || t('clientNumber', task.clientId)), ' · ']
        : null,
      task.dueAt
        ? h('span', { class: 'task-due' }, t('taskDue', dateTimeIn(task.dueAt, timeZone)))
        : h('span', { class: 'task-due muted' }, t('taskNoDue')),
      task.assignee ? [' · ', h('span', { class: 'task-assignee' }, t('taskAssignee', task.assignee.username))] : null,
      !open && task.closedAt ? [' · ', h('span', {}, t('taskClosedAt', dateTimeIn(task.closedAt, timeZone)))] : null),
    task.signal
      ? [h('p', { class: 'task-signal small' }, severityBadge(task.signal.severity),
        // The title says it in Russian; in English the signal's own line says it again.
        task.title.includes(task.signal.summary) ? null : [' ', task.signal.summary]),
        evidenceBlock(task.signal, `${prefix}-task`)]
      : (task.details ? h('p', { class: 'task-details small' }, task.details) : null)),
  offered.length
    ? h('div', { class: 'task-actions' }, offered.map((a) => h('button', {
      type: 'button',
      class: ['small', a === 'complete' ? null : 'secondary'],
      id: `${prefix}-${a}-${task.id}`,
      disabled: busy,
      'aria-label': t(`task_${a}_label`, task.title),
      on: { click: () => onAction(task, a) },
    }, t(`task_${a}`))))
    : null);
}

/**
 * Runs an action on a task; resolves to the changed task. Announces the result; rethrows
 * errors (with `handled` set when the session ended).
 */
export async function runTaskAction(ctx, task, action) {
  const a = ACTIONS[action];
  const data = await ctx.request(a.query, { id: task.id });
  ctx.announce(t(a.done, task.title));
  return data[a.field];
}

/** Open tasks first (soonest due first, those without a due time last), then closed ones, latest first. */
export function sortTasks(tasks) {
  const due = (x) => (x.dueAt ? Date.parse(x.dueAt) : Infinity);
  return [...tasks].sort((a, b) => {
    const ao = a.status === 'OPEN';
    const bo = b.status === 'OPEN';
    if (ao !== bo) return ao ? -1 : 1;
    if (ao) return due(a) - due(b) || Number(a.id) - Number(b.id);
    return Date.parse(b.closedAt || b.createdAt) - Date.parse(a.closedAt || a.createdAt);
  });
}
