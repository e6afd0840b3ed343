// Administration (administrators only): users (#/admin/users) and teams (#/admin/teams).
// Users: the list (login, role, team, disabled, "must change password"), a form to add one
// (optionally straight into a team), and per user: role, team, disable/enable, and a password
// reset whose one-time temporary password is shown once, with a copy button. Teams: the list
// with lead and members (from `users`: a team has no member list of its own), a form to add
// one, renaming and a new lead.
import { h, replace, table, focusHeading } from '../dom.js';
import { label, t } from '../i18n.js';
import { date } from '../format.js';
import {
  ADMIN_DATA, CREATE_TEAM, CREATE_USER, RESET_PASSWORD, SET_USER_TEAM, UPDATE_TEAM, UPDATE_USER,
} from '../queries.js';
import { formError, later, preserveFocus, renderStatus, say } from './common.js';

export const ROLES = ['MANAGER', 'VIEWER', 'ADMIN'];
/** What a username may hold (the server's rule; it answers BAD_USER_INPUT otherwise). */
const USERNAME = /^[\p{L}\p{N}._@-]{1,64}$/u;
const MIN_PASSWORD = 12;

/** Focuses the element with `id` once it is in the page (after a rebuild). */
function focusId(id) {
  const el = document.getElementById(id);
  if (!el) return;
  if (!el.hasAttribute('tabindex') && !/^(INPUT|SELECT|BUTTON|TEXTAREA|A)$/.test(el.tagName)) el.setAttribute('tabindex', '-1');
  el.focus();
}

/** A form's message line: an error (alert) or a notice (status), focusable for the result. */
function formMessage(id, errorMessage, noticeMessage) {
  const error = say(errorMessage);
  const notice = say(noticeMessage);
  return h('p', {
    id, tabindex: '-1', class: ['form-message', error ? 'error' : 'notice'], role: error ? 'alert' : 'status',
  }, error || notice || null);
}

/**
 * An "add one" form of these pages (`id`-form, with `id`-submit): its heading, the fields
 * (`.field` boxes), the submit button (off while busy) and the message line.
 */
function addForm({ id, title, fields, submit, busy, message, onSubmit }) {
  return h('form', {
    class: 'filters admin-form', id: `${id}-form`, 'aria-labelledby': `${id}-form-title`, novalidate: true,
    on: { submit: (ev) => { ev.preventDefault(); onSubmit(); } },
  },
  h('h2', { id: `${id}-form-title`, class: 'form-title' }, title),
  fields,
  h('div', { class: 'field end' }, h('button', { type: 'submit', id: `${id}-submit`, disabled: busy }, busy ? t('working') : submit)),
  message);
}

/** A <select> of the teams, "no team" first. */
function teamSelect(id, teams, value, props = {}) {
  const el = h('select', { id, name: 'team', ...props },
    h('option', { value: '' }, t('adminNoTeam')),
    teams.map((tm) => h('option', { value: tm.id }, tm.name)));
  el.value = value || '';
  return el;
}

/** The common part of both pages: users and teams loaded together, the sub-navigation. */
class AdminBase {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {'users'|'teams'} page
   */
  constructor(ctx, page) {
    this.ctx = ctx;
    this.page = page;
    this.users = null;
    this.teams = null;
    this.loading = false;
    this.error = '';
    this.busy = false;
    this.el = h('section', { class: `view admin admin-${page}`, 'aria-labelledby': 'admin-title' });
  }

  isAdmin() {
    const u = this.ctx.user();
    return Boolean(u && u.role === 'ADMIN');
  }

  async show() {
    this.build();
    if (this.isAdmin()) await this.load();
    focusHeading(this.el.querySelector('h1'));
  }

  render() {
    this.build();
  }

  async load() {
    this.loading = true;
    this.error = '';
    this.updateStatus();
    try {
      const data = await this.ctx.request(ADMIN_DATA);
      this.users = data.users;
      this.teams = data.teams;
    } catch (e) {
      if (e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    preserveFocus(() => this.update());
  }

  build() {
    this.parts = {
      status: h('p', { class: 'status', 'aria-live': 'polite' }),
      body: h('div', { class: 'admin-body' }),
    };
    const tab = (page, href) => h('a', {
      href, id: `admin-tab-${page}`, 'aria-current': this.page === page ? 'page' : null,
    }, t(page === 'users' ? 'adminUsersTitle' : 'adminTeamsTitle'));
    replace(this.el,
      h('p', { class: 'back' }, h('a', { href: '#/clients', id: 'admin-back' }, t('backToClients'))),
      h('h1', { id: 'admin-title' }, this.title()),
      this.isAdmin()
        ? h('nav', { class: 'admin-tabs', 'aria-label': t('adminNav') },
          tab('users', '#/admin/users'), tab('teams', '#/admin/teams'))
        : null,
      this.parts.status,
      this.parts.body);
    this.update();
  }

  updateStatus() {
    if (!this.parts) return;
    renderStatus(this.parts.status, {
      loading: this.loading, error: this.error, onRetry: () => this.load(), retryId: 'admin-retry',
    });
  }

  update() {
    if (!this.parts) return;
    this.updateStatus();
    if (!this.isAdmin()) {
      replace(this.parts.body, h('p', { class: 'notice', id: 'admin-forbidden' }, t('adminOnly')));
      return;
    }
    if (!this.users) { replace(this.parts.body); return; }
    replace(this.parts.body, this.content());
  }

  /** Members of each team, by the team's id. */
  members() {
    const by = new Map();
    for (const u of this.users || []) {
      if (!u.team) continue;
      if (!by.has(u.team.id)) by.set(u.team.id, []);
      by.get(u.team.id).push(u);
    }
    return by;
  }

  /**
   * Runs a mutation with the page busy; on success `done(data)`, on failure the error goes to
   * `fail(message)` (a function: the text in the language of the moment). Returns whether it
   * succeeded.
   */
  async mutate(query, variables, done, fail) {
    this.busy = true;
    preserveFocus(() => this.update());
    try {
      const data = await this.ctx.request(query, variables);
      this.busy = false;
      done(data);
      return true;
    } catch (e) {
      this.busy = false;
      if (e.handled) return false;
      fail(() => formError(this.ctx, e));
      return false;
    }
  }

  /** Puts a changed user in the list (the answer of a mutation). */
  replaceUser(user) {
    const k = this.users.findIndex((u) => u.id === user.id);
    if (k >= 0) this.users[k] = user;
    else this.users.push(user);
  }
}

// ---- users ------------------------------------------------------------------------------------

export class UsersView extends AdminBase {
  constructor(ctx) {
    super(ctx, 'users');
    this.formError = '';
    this.formNotice = '';
    this.rowError = null; // { id, message } of the last failed row action
    this.temporary = null; // { username, password }: shown once, gone when dismissed or left
    this.values = { username: '', password: '', role: 'MANAGER', team: '' };
  }

  title() {
    return t('adminUsersTitle');
  }

  content() {
    return [
      this.temporary ? this.temporaryBox() : null,
      this.createForm(),
      h('h2', { id: 'users-list-title' }, t('adminUsersList')),
      this.rowError ? h('p', { class: 'error', role: 'alert', id: 'users-row-error', tabindex: '-1' }, say(this.rowError.message)) : null,
      this.usersTable(),
    ];
  }

  createForm() {
    const v = this.values;
    const input = (id, key, attrs) => {
      const el = h('input', { id, name: key, ...attrs, on: { input: () => { v[key] = el.value; } } });
      el.value = v[key];
      return el;
    };
    const role = h('select', { id: 'user-role', name: 'role', on: { change: () => { v.role = role.value; } } },
      ROLES.map((r) => h('option', { value: r }, label('Role', r))));
    role.value = v.role;
    const team = teamSelect('user-team', this.teams, v.team, { on: { change: () => { v.team = team.value; } } });
    return addForm({
      id: 'user',
      title: t('adminUserAdd'),
      fields: [
        h('div', { class: 'field grow' }, h('label', { for: 'user-username' }, t('username')),
          input('user-username', 'username', { required: true, autocomplete: 'off', maxlength: 64, 'aria-describedby': 'user-username-hint', spellcheck: 'false', autocapitalize: 'none' }),
          h('span', { class: 'hint', id: 'user-username-hint' }, t('adminUsernameHint'))),
        h('div', { class: 'field grow' }, h('label', { for: 'user-password' }, t('adminInitialPassword')),
          input('user-password', 'password', { type: 'password', required: true, autocomplete: 'new-password', minlength: MIN_PASSWORD, maxlength: 1024, 'aria-describedby': 'user-password-hint' }),
          h('span', { class: 'hint', id: 'user-password-hint' }, t('passwordPolicy'))),
        h('div', { class: 'field' }, h('label', { for: 'user-role' }, t('adminRole')), role),
        h('div', { class: 'field' }, h('label', { for: 'user-team' }, t('adminTeam')), team),
      ],
      submit: t('adminUserCreate'),
      busy: this.busy,
      message: formMessage('user-message', this.formError, this.formNotice),
      onSubmit: () => this.create(),
    });
  }

  async create() {
    const v = this.values;
    const username = v.username.trim();
    this.formNotice = '';
    if (!username) this.formError = later('adminUsernameRequired');
    else if (!USERNAME.test(username)) this.formError = later('adminUsernameHint');
    else if (v.password.length < MIN_PASSWORD) this.formError = later('passwordPolicy');
    else this.formError = '';
    if (this.formError) {
      preserveFocus(() => this.update());
      focusId(username && USERNAME.test(username) ? 'user-password' : 'user-username');
      return;
    }
    let created = null;
    const ok = await this.mutate(CREATE_USER, { input: { username, password: v.password, role: v.role } },
      (data) => { created = data.createUser; this.replaceUser(created); },
      (message) => { this.formError = message; });
    if (ok && v.team) {
      // A new user has no team: put them in the one picked (a second step; if it fails the
      // user exists and the row says so).
      await this.mutate(SET_USER_TEAM, { userId: created.id, teamId: v.team },
        (data) => this.replaceUser(data.setUserTeam),
        (message) => { this.formError = () => t('adminUserCreatedNoTeam', created.username, message()); });
    }
    if (ok) {
      if (!this.formError) this.formNotice = later('adminUserCreated', created.username);
      this.values = { username: '', password: '', role: v.role, team: v.team };
    }
    preserveFocus(() => this.update());
    // The result or the server's refusal: either way the message says it.
    focusId('user-message');
    if (this.formNotice) this.ctx.announce(say(this.formNotice));
  }

  usersTable() {
    const me = this.ctx.user();
    const columns = [
      { title: t('username') },
      { title: t('adminRole') },
      { title: t('adminTeam') },
      { title: t('adminState') },
      { title: t('colActions') },
    ];
    const users = [...this.users].sort((a, b) => a.username.localeCompare(b.username));
    const rows = users.map((u) => {
      const self = me && String(me.id) === String(u.id);
      const role = h('select', { id: `user-role-${u.id}`, disabled: this.busy || self || null },
        ROLES.map((r) => h('option', { value: r }, label('Role', r))));
      role.value = u.role;
      const team = teamSelect(`user-team-${u.id}`, this.teams, u.team ? u.team.id : '', { disabled: this.busy || null });
      const save = () => this.saveUser(u, role.value, team.value);
      return [
        { content: [h('span', { class: 'user-name' }, u.username), self ? h('span', { class: 'sub' }, t('adminYou')) : null], class: 'wrap-any' },
        [h('label', { class: 'sr-only', for: `user-role-${u.id}` }, t('adminRoleFor', u.username)), role],
        [h('label', { class: 'sr-only', for: `user-team-${u.id}` }, t('adminTeamFor', u.username)), team],
        h('span', { class: 'badges' },
          h('span', { class: ['badge', u.disabled ? 'off' : 'ok'], dataset: { state: u.disabled ? 'disabled' : 'active' } },
            t(u.disabled ? 'adminDisabled' : 'adminActive')),
          u.passwordChangeRequired
            ? h('span', { class: 'badge warn', dataset: { state: 'must-change' } }, t('adminMustChange'))
            : null),
        h('div', { class: 'row-actions' },
          h('button', {
            type: 'button', class: 'secondary small', id: `user-save-${u.id}`, disabled: this.busy,
            'aria-label': t('adminSaveFor', u.username), on: { click: save },
          }, t('save')),
          self ? null : h('button', {
            type: 'button', class: ['secondary', 'small', u.disabled ? null : 'danger'], id: `user-disable-${u.id}`, disabled: this.busy,
            'aria-label': t(u.disabled ? 'adminEnableFor' : 'adminDisableFor', u.username),
            on: { click: () => this.setDisabled(u, !u.disabled) },
          }, t(u.disabled ? 'adminEnable' : 'adminDisable')),
          self ? null : h('button', {
            type: 'button', class: 'secondary small', id: `user-reset-${u.id}`, disabled: this.busy,
            'aria-label': t('adminResetFor', u.username), on: { click: () => this.resetPassword(u) },
          }, t('adminReset'))),
      ];
    });
    const tbl = table({ caption: t('adminUsersList'), columns, rows, empty: t('adminNoUsers'), className: 'users-table cards' });
    tbl.querySelectorAll('tbody tr').forEach((tr, k) => { if (users[k]) tr.dataset.userId = users[k].id; });
    return tbl;
  }

  /** Saves the row's role and team (only what changed). */
  async saveUser(u, role, teamId) {
    this.rowError = null;
    const was = u.team ? u.team.id : '';
    let ok = true;
    if (role !== u.role) {
      ok = await this.mutate(UPDATE_USER, { id: u.id, input: { role } },
        (data) => this.replaceUser(data.updateUser),
        (message) => { this.rowError = { id: u.id, message: () => t('adminRowFailed', u.username, message()) }; });
    }
    if (ok && teamId !== was) {
      ok = await this.mutate(SET_USER_TEAM, { userId: u.id, teamId: teamId || null },
        (data) => this.replaceUser(data.setUserTeam),
        (message) => { this.rowError = { id: u.id, message: () => t('adminRowFailed', u.username, message()) }; });
      // A new team may have changed who leads what: the teams again.
      if (ok) await this.load();
    }
    this.afterRow(u, ok, t('adminUserSaved', u.username), `user-save-${u.id}`);
  }

  async setDisabled(u, disabled) {
    this.rowError = null;
    const ok = await this.mutate(UPDATE_USER, { id: u.id, input: { disabled } },
      (data) => this.replaceUser(data.updateUser),
      (message) => { this.rowError = { id: u.id, message: () => t('adminRowFailed', u.username, message()) }; });
    this.afterRow(u, ok, t(disabled ? 'adminUserDisabled' : 'adminUserEnabled', u.username), `user-disable-${u.id}`);
  }

  async resetPassword(u) {
    this.rowError = null;
    this.temporary = null;
    const ok = await this.mutate(RESET_PASSWORD, { userId: u.id },
      (data) => {
        this.replaceUser(data.resetPassword.user);
        this.temporary = { username: data.resetPassword.user.username, password: data.resetPassword.password, userId: u.id };
      },
      (message) => { this.rowError = { id: u.id, message: () => t('adminRowFailed', u.username, message()) }; });
    preserveFocus(() => this.update());
    if (ok) focusId('temp-password-title');
    else focusId('users-row-error');
  }

  afterRow(u, ok, notice, focus) {
    preserveFocus(() => this.update());
    if (ok) {
      this.ctx.announce(notice);
      focusId(focus);
    } else {
      focusId('users-row-error');
    }
  }

  /** The temporary password, this once: copy it, then dismiss it. */
  temporaryBox() {
    const tp = this.temporary;
    const code = h('code', { id: 'temp-password', class: 'temp-password' }, tp.password);
    const copied = h('span', { id: 'temp-password-copied', class: 'notice', role: 'status' });
    return h('section', { class: 'temp-box', id: 'temp-password-box', 'aria-labelledby': 'temp-password-title' },
      h('h2', { id: 'temp-password-title', tabindex: '-1' }, t('adminTempTitle', tp.username)),
      h('p', { class: 'temp-warning' }, t('adminTempWarning')),
      h('p', { class: 'temp-line' }, code),
      h('div', { class: 'inline' },
        h('button', { type: 'button', id: 'temp-password-copy', on: { click: () => this.copy(code, copied) } }, t('adminCopy')),
        h('button', {
          type: 'button', class: 'secondary', id: 'temp-password-done',
          on: { click: () => { const id = tp.userId; this.temporary = null; this.update(); focusId(`user-reset-${id}`); } },
        }, t('adminTempDone')),
        copied));
  }

  async copy(code, status) {
    try {
      await navigator.clipboard.writeText(code.textContent);
      replace(status, t('adminCopied'));
    } catch (e) {
      // No clipboard (permissions, plain http): select it so that Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      replace(status, t('adminCopyByHand'));
    }
  }

  destroy() {
    // Leaving the page forgets the temporary password: it is never shown again.
    this.temporary = null;
  }
}

// ---- teams ------------------------------------------------------------------------------------

export class TeamsView extends AdminBase {
  constructor(ctx) {
    super(ctx, 'teams');
    this.formError = '';
    this.formNotice = '';
    this.editing = null; // the id of the team being edited
    this.editError = '';
    this.values = { name: '', lead: '' };
  }

  title() {
    return t('adminTeamsTitle');
  }

  /** Who may lead a team: active users, by name. */
  leadOptions() {
    return this.users.filter((u) => !u.disabled).sort((a, b) => a.username.localeCompare(b.username));
  }

  /** `allowNone`: whether "no lead" may be picked (the API cannot take a lead away). */
  leadSelect(id, value, props = {}, allowNone = true) {
    const el = h('select', { id, name: 'lead', ...props },
      allowNone ? h('option', { value: '' }, t('adminNoLead')) : null,
      this.leadOptions().map((u) => h('option', { value: u.id }, `${u.username} · ${label('Role', u.role)}`)));
    el.value = value || '';
    return el;
  }

  content() {
    return [
      this.createForm(),
      h('h2', { id: 'teams-list-title' }, t('adminTeamsList')),
      this.teamsTable(),
      this.editing ? this.editForm() : null,
    ];
  }

  createForm() {
    const v = this.values;
    const name = h('input', {
      id: 'team-name', name: 'name', required: true, autocomplete: 'off', maxlength: 100,
      on: { input: () => { v.name = name.value; } },
    });
    name.value = v.name;
    const lead = this.leadSelect('team-lead', v.lead, { on: { change: () => { v.lead = lead.value; } } });
    return addForm({
      id: 'team',
      title: t('adminTeamAdd'),
      fields: [
        h('div', { class: 'field grow' }, h('label', { for: 'team-name' }, t('adminTeamName')), name),
        h('div', { class: 'field grow' }, h('label', { for: 'team-lead' }, t('adminLead')), lead),
      ],
      submit: t('adminTeamCreate'),
      busy: this.busy,
      message: formMessage('team-message', this.formError, this.formNotice),
      onSubmit: () => this.create(),
    });
  }

  async create() {
    const v = this.values;
    const name = v.name.trim();
    this.formNotice = '';
    this.formError = name ? '' : later('adminTeamNameRequired');
    if (this.formError) {
      preserveFocus(() => this.update());
      focusId('team-name');
      return;
    }
    let team = null;
    const ok = await this.mutate(CREATE_TEAM, { name, leadId: v.lead || null },
      (data) => { team = data.createTeam; },
      (message) => { this.formError = message; });
    if (ok) {
      this.formNotice = later('adminTeamCreated', team.name);
      this.values = { name: '', lead: '' };
      // The lead joined the team: users and teams again.
      await this.load();
      this.ctx.announce(say(this.formNotice));
      focusId('team-message');
    } else {
      preserveFocus(() => this.update());
      focusId('team-message');
    }
  }

  teamsTable() {
    const members = this.members();
    const columns = [
      { title: t('adminTeamName') },
      { title: t('adminLead') },
      { title: t('adminMembers') },
      { title: t('colCreated') },
      { title: t('colActions') },
    ];
    const teams = [...this.teams].sort((a, b) => a.name.localeCompare(b.name));
    const rows = teams.map((tm) => {
      const list = (members.get(tm.id) || []).sort((a, b) => a.username.localeCompare(b.username));
      return [
        { content: h('span', { class: 'team-name' }, tm.name), class: 'wrap-any' },
        tm.lead ? h('span', { class: 'team-lead' }, tm.lead.username) : h('span', { class: 'muted' }, t('none')),
        { content: list.length
          ? h('ul', { class: 'plain members' }, list.map((u) => h('li', {}, u.username, ' ', h('span', { class: 'muted' }, `(${label('Role', u.role)})`))))
          : h('span', { class: 'muted' }, t('adminNoMembers')),
        class: 'wrap-any' },
        date(tm.createdAt),
        h('button', {
          type: 'button', class: 'secondary small', id: `team-edit-${tm.id}`, disabled: this.busy,
          'aria-label': t('adminTeamEditFor', tm.name), 'aria-expanded': String(this.editing === tm.id),
          on: { click: () => this.startEdit(tm) },
        }, t('edit')),
      ];
    });
    const tbl = table({ caption: t('adminTeamsList'), columns, rows, empty: t('adminNoTeams'), className: 'teams-table cards' });
    tbl.querySelectorAll('tbody tr').forEach((tr, k) => { if (teams[k]) tr.dataset.teamId = teams[k].id; });
    return tbl;
  }

  startEdit(tm) {
    this.editing = tm.id;
    this.editError = '';
    this.update();
    focusId('team-edit-name');
  }

  cancelEdit() {
    const id = this.editing;
    this.editing = null;
    this.editError = '';
    this.update();
    focusId(`team-edit-${id}`);
  }

  editForm() {
    const tm = this.teams.find((x) => x.id === this.editing);
    if (!tm) return null;
    const name = h('input', { id: 'team-edit-name', name: 'name', required: true, autocomplete: 'off', maxlength: 100 });
    name.value = tm.name;
    const lead = this.leadSelect('team-edit-lead', tm.lead ? tm.lead.id : '', {}, !tm.lead);
    return h('form', {
      class: 'card team-edit', id: 'team-edit-form', 'aria-labelledby': 'team-edit-title', novalidate: true,
      on: {
        submit: (ev) => { ev.preventDefault(); this.saveEdit(tm, name.value.trim(), lead.value); },
        keydown: (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); this.cancelEdit(); } },
      },
    },
    h('h2', { id: 'team-edit-title' }, t('adminTeamEditTitle', tm.name)),
    h('label', { for: 'team-edit-name' }, t('adminTeamName')), name,
    h('label', { for: 'team-edit-lead' }, t('adminLead')), lead,
    h('p', { class: 'hint' }, t('adminLeadHint')),
    formMessage('team-edit-message', this.editError, ''),
    h('div', { class: 'inline' },
      h('button', { type: 'submit', id: 'team-edit-save', disabled: this.busy }, this.busy ? t('saving') : t('save')),
      h('button', { type: 'button', class: 'secondary', id: 'team-edit-cancel', on: { click: () => this.cancelEdit() } }, t('cancel'))));
  }

  async saveEdit(tm, name, leadId) {
    if (!name) {
      this.editError = later('adminTeamNameRequired');
      this.update();
      focusId('team-edit-name');
      return;
    }
    const vars = { id: tm.id };
    if (name !== tm.name) vars.name = name;
    // The API sets a lead but cannot take one away (a null `leadId` means "unchanged").
    if (leadId && leadId !== (tm.lead ? tm.lead.id : '')) vars.leadId = leadId;
    if (Object.keys(vars).length === 1) { this.cancelEdit(); return; }
    this.editError = '';
    const ok = await this.mutate(UPDATE_TEAM, vars, () => {}, (message) => { this.editError = message; });
    if (ok) {
      this.editing = null;
      await this.load();
      this.ctx.announce(t('adminTeamSaved', name));
      focusId(`team-edit-${tm.id}`);
    } else {
      preserveFocus(() => this.update());
      focusId('team-edit-message');
    }
  }
}
