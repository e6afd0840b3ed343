// A client's tasks (the "Notes & tasks" tab of the client's page): open ones first, overdue ones
// marked in words; complete, reopen, cancel; and a form for a new one (title, details, due date
// and time on the user's clock, sent as UTC; priority; assignee among the people who can see
// the client: the team's members and me). The server refuses an assignee who cannot see the
// client; its words are shown next to the form.
import { h, replace } from '../dom.js';
import { label, t } from '../i18n.js';
import { todayIn, utcToZoned, zonedToUtc } from '../format.js';
import { CLIENT_MEMBERS, CLIENT_TASKS, CREATE_TASK, UPDATE_TASK } from '../queries.js';
import { formError, preserveFocus } from './common.js';
import { runTaskAction, sortTasks, taskItem } from './tasks.js';

const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'];
const ASSIGNABLE = ['MANAGER', 'ADMIN'];

export class ClientTasksSection {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{clientId: string, canEdit: () => boolean, onChanged?: () => void}} o
   */
  constructor(ctx, { clientId, canEdit, onChanged }) {
    this.ctx = ctx;
    this.clientId = clientId;
    this.canEdit = canEdit;
    this.onChanged = onChanged || (() => {});
    this.tasks = null;
    this.me = null;
    this.owner = null;
    this.members = [];
    this.error = '';
    this.busy = null;
    this.saving = false;
    this.message = '';
    this.messageIsError = false;
    this.draft = {};
    /** The task the form edits (null: the form creates one). */
    this.editing = null;
    this.el = h('section', { class: 'tasks-section', 'aria-labelledby': 'tasks-title' });
  }

  async load() {
    this.error = '';
    try {
      const [data, members] = await Promise.all([
        this.ctx.request(CLIENT_TASKS, { id: this.clientId }),
        // Without the team's list the form still offers me and the owner.
        this.ctx.request(CLIENT_MEMBERS, { id: this.clientId }).catch((e) => { if (e.handled) throw e; return null; }),
      ]);
      this.me = data.me;
      this.tasks = data.client.tasks;
      this.owner = data.client.owner;
      this.members = (members && members.client.team && members.client.team.members) || [];
    } catch (e) {
      if (e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.render();
  }

  /** A task changed elsewhere (the timeline's live entries say so): the list again. */
  refresh() {
    if (this.tasks) this.load();
  }

  /** The people a task can go to: me, the owner, the team's active managers and administrators. */
  assignees() {
    const seen = new Map();
    for (const u of [this.me, this.owner, ...this.members]) {
      if (!u || u.disabled || !ASSIGNABLE.includes(u.role) || seen.has(u.id)) continue;
      seen.set(u.id, u);
    }
    return [...seen.values()];
  }

  render() {
    preserveFocus(() => {
      const zone = this.me ? this.me.timeZone : null;
      const tasks = this.tasks ? sortTasks(this.tasks) : [];
      const open = tasks.filter((x) => x.status === 'OPEN').length;
      replace(this.el,
        h('h2', { id: 'tasks-title' }, t('tasksTitle'), this.tasks ? [' ', h('span', { class: 'count muted' }, t('tasksOpenCount', open))] : null),
        this.error ? h('p', { class: 'error', role: 'alert', id: 'tasks-error' }, this.error) : null,
        !this.tasks ? (this.error ? null : h('p', { class: 'status' }, t('loading')))
          : tasks.length
            ? h('ul', { class: 'tasks plain', id: 'tasks-list' }, tasks.map((task) => taskItem(task, {
              prefix: 'task',
              timeZone: zone,
              actions: this.canEdit() ? ['complete', 'reopen', 'cancel', 'edit'] : [],
              busy: this.busy === task.id,
              onAction: (x, a) => this.act(x, a),
            })))
            : h('p', { class: 'muted', id: 'tasks-empty' }, t('tasksNone')),
        this.tasks && this.canEdit() ? this.form(zone) : null);
    });
  }

  form(zone) {
    const d = this.draft;
    const field = (id, labelKey, control, cls = 'field') => h('div', { class: cls }, h('label', { for: id }, t(labelKey)), control);
    const input = (id, attrs, value) => {
      const el = h('input', { id, ...attrs });
      el.value = value || '';
      el.addEventListener('input', () => { this.draft[attrs.name] = el.value; });
      return el;
    };
    const details = h('textarea', { id: 'task-details', name: 'details', rows: 2, maxlength: 20000 });
    details.value = d.details || '';
    details.addEventListener('input', () => { this.draft.details = details.value; });
    const priority = h('select', { id: 'task-priority', name: 'priority' },
      PRIORITIES.map((p) => h('option', { value: p }, label('TaskPriority', p))));
    priority.value = d.priority || 'NORMAL';
    priority.addEventListener('change', () => { this.draft.priority = priority.value; });
    const assignee = h('select', { id: 'task-assignee', name: 'assignee' },
      this.assignees().map((u) => h('option', { value: u.id },
        u.id === (this.me && this.me.id) ? t('taskAssigneeMe', u.username) : `${u.username} (${label('Role', u.role)})`)));
    assignee.value = d.assignee || (this.me ? this.me.id : '');
    // One the list does not offer (any more): me again.
    if (assignee.value !== (d.assignee || (this.me ? this.me.id : '')) && this.me) {
      assignee.value = this.me.id;
      this.draft.assignee = this.me.id;
    }
    assignee.addEventListener('change', () => { this.draft.assignee = assignee.value; });
    return h('form', {
      class: 'filters task-form', id: 'task-form', 'aria-labelledby': 'task-form-title', novalidate: true,
      on: { submit: (ev) => { ev.preventDefault(); this.create(zone); } },
    },
    h('h3', { id: 'task-form-title', class: 'form-title' }, this.editing ? t('taskEditTitle') : t('taskNew')),
    field('task-title', 'taskTitle', input('task-title', { name: 'title', required: true, maxlength: 200, autocomplete: 'off' }, d.title), 'field grow'),
    h('div', { class: 'field full' }, h('label', { for: 'task-details' }, t('taskDetails')), details),
    field('task-due-date', 'taskDueDate', input('task-due-date', { name: 'dueDate', type: 'date', min: zone ? todayIn(zone) : null, 'aria-describedby': 'task-zone' }, d.dueDate)),
    field('task-due-time', 'taskDueTime', input('task-due-time', { name: 'dueTime', type: 'time', 'aria-describedby': 'task-zone' }, d.dueTime)),
    field('task-priority', 'taskPriority', priority),
    field('task-assignee', 'taskAssigneeField', assignee),
    h('p', { class: 'muted small full', id: 'task-zone' }, t('taskZoneHint', zone || t('none'))),
    h('div', { class: 'field end' },
      h('button', { type: 'submit', id: 'task-submit', disabled: this.saving }, this.saving ? t('saving') : this.editing ? t('taskSave') : t('taskAdd')),
      this.editing ? [' ', h('button', {
        type: 'button', class: 'secondary', id: 'task-edit-cancel', on: { click: () => this.stopEditing() },
      }, t('taskEditCancel'))] : null),
    h('p', {
      id: 'task-message', tabindex: '-1', class: ['form-message', 'full', this.messageIsError ? 'error' : 'notice'], role: this.messageIsError ? 'alert' : 'status',
    }, this.message || null));
  }

  async create(zone) {
    const d = this.draft;
    const title = (d.title || '').trim();
    const fail = (message, focus) => {
      this.message = message;
      this.messageIsError = true;
      this.render();
      document.getElementById(focus)?.focus();
    };
    if (!title) { fail(t('taskTitleRequired'), 'task-title'); return; }
    if (d.dueTime && !d.dueDate) { fail(t('taskDateRequired'), 'task-due-date'); return; }
    const input = { title, details: (d.details || '').trim(), priority: d.priority || 'NORMAL' };
    if (d.dueDate) input.dueAt = zonedToUtc(d.dueDate, d.dueTime || '', zone);
    else if (this.editing) input.clearDueAt = true;
    const assignee = d.assignee || (this.me && this.me.id);
    if (assignee) input.assigneeId = assignee;
    this.saving = true;
    this.message = '';
    this.render();
    try {
      const task = this.editing
        ? (await this.ctx.request(UPDATE_TASK, { id: this.editing, input })).updateTask
        : (await this.ctx.request(CREATE_TASK, { input: { clientId: this.clientId, ...input } })).createTask;
      const done = this.editing ? 'taskUpdated' : 'taskCreated';
      this.tasks = [...this.tasks.filter((x) => x.id !== task.id), task];
      this.draft = {};
      this.editing = null;
      this.saving = false;
      this.messageIsError = false;
      this.message = t(done, task.title);
      this.render();
      this.ctx.announce(this.message);
      document.getElementById('task-title')?.focus();
      this.onChanged();
    } catch (e) {
      this.saving = false;
      if (e.handled) return;
      // e.g. an assignee who cannot see the client: the server's words, next to the form.
      fail(formError(this.ctx, e), 'task-message');
    }
  }

  /** Fills the form with an open task's fields, on the user's clock, to change them. */
  edit(task) {
    const zone = this.me ? this.me.timeZone : null;
    const due = task.dueAt ? utcToZoned(task.dueAt, zone) : { date: '', time: '' };
    this.editing = task.id;
    this.draft = {
      title: task.title, details: task.details, priority: task.priority,
      dueDate: due.date, dueTime: due.time, assignee: task.assignee ? task.assignee.id : '',
    };
    this.message = '';
    this.render();
    document.getElementById('task-title')?.focus();
  }

  stopEditing() {
    this.editing = null;
    this.draft = {};
    this.message = '';
    this.render();
    document.getElementById('task-title')?.focus();
  }

  async act(task, action) {
    if (action === 'edit') { this.edit(task); return; }
    this.busy = task.id;
    this.render();
    try {
      const changed = await runTaskAction(this.ctx, task, action);
      this.tasks = this.tasks.map((x) => (x.id === changed.id ? changed : x));
      this.message = '';
      this.onChanged();
    } catch (e) {
      if (e.handled) return;
      this.message = this.ctx.errorMessage(e);
      this.messageIsError = true;
    }
    this.busy = null;
    this.render();
    // The task moved in the list: the focus follows it to its new button.
    const next = action === 'reopen' ? 'complete' : 'reopen';
    if (!document.activeElement || document.activeElement === document.body) document.getElementById(`task-${next}-${task.id}`)?.focus();
  }
}
