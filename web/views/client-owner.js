// A client's manager and the end of the client, on the client's page: "Assign to a manager"
// (administrators: `assignClient` with a list from `users`, which only administrators may read)
// and "Delete client" for those the server lets delete it (an administrator, the client's
// owner or its team's lead, none of them a viewer), with a confirmation step: the client's name
// typed again, in the page (no window.confirm), then back to the dashboard.
import { h } from '../dom.js';
import { label, t } from '../i18n.js';
import { ASSIGN_CLIENT, ASSIGNABLE_USERS, DELETE_CLIENT } from '../queries.js';
import { formError, later, say } from './common.js';

const same = (a, b) => a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);

export class OwnerSection {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{onChange: (changed: object) => void}} opts  the client's fields that changed (none: redraw)
   */
  constructor(ctx, { onChange }) {
    this.ctx = ctx;
    this.onChange = onChange;
    this.users = null; // who a client may be given to (loaded for administrators)
    this.usersError = '';
    this.assignBusy = false;
    this.assignError = '';
    this.confirming = false;
    this.typed = '';
    this.deleteBusy = false;
    this.deleteError = '';
  }

  /** What the signed-in user may do with client `c`. */
  rights(c) {
    const me = this.ctx.user();
    if (!me || me.role === 'VIEWER') return { assign: false, remove: false };
    const admin = me.role === 'ADMIN';
    const lead = Boolean(c.team && c.team.lead && same(c.team.lead.id, me.id));
    const owner = Boolean(c.owner && same(c.owner.id, me.id));
    // A team lead may assign within the team too, but the API lists users to administrators
    // only, so there is no one to offer a lead: the control is for administrators.
    return { assign: admin, remove: admin || lead || owner };
  }

  /** The section for client `c`, or null when the user may do neither. */
  render(c) {
    this.client = c;
    const can = this.rights(c);
    if (!can.assign && !can.remove) return null;
    if (can.assign && !this.users && !this.usersError && !this.usersLoading) this.loadUsers();
    return h('section', { class: 'card owner-card', id: 'client-book', 'aria-labelledby': 'client-book-title' },
      h('h2', { id: 'client-book-title' }, t('clientBookTitle')),
      can.assign ? this.assignForm(c) : null,
      can.remove ? this.deletePart(c) : null);
  }

  async loadUsers() {
    this.usersLoading = true;
    try {
      const data = await this.ctx.request(ASSIGNABLE_USERS);
      this.users = data.users;
    } catch (e) {
      if (e.handled) return;
      this.usersError = () => this.ctx.errorMessage(e);
    }
    this.usersLoading = false;
    this.onChange({});
  }

  // ---- assign ---------------------------------------------------------------------------------

  assignForm(c) {
    // Only an active manager or administrator can own clients.
    const candidates = (this.users || [])
      .filter((u) => !u.disabled && u.role !== 'VIEWER')
      .sort((a, b) => a.username.localeCompare(b.username));
    const select = h('select', { id: 'assign-owner', name: 'owner', disabled: !this.users || this.assignBusy || null },
      c.owner ? null : h('option', { value: '' }, t('assignPick')),
      candidates.map((u) => h('option', { value: u.id },
        `${u.username} · ${label('Role', u.role)}${u.team ? ` · ${u.team.name}` : ''}`)));
    select.value = c.owner ? String(c.owner.id) : '';
    const message = say(this.assignError) || say(this.usersError);
    return h('form', {
      class: 'filters assign-form', id: 'assign-form', 'aria-labelledby': 'assign-title', novalidate: true,
      on: { submit: (ev) => { ev.preventDefault(); this.assign(c, select.value); } },
    },
    h('h3', { id: 'assign-title', class: 'form-title' }, t('assignTitle')),
    h('p', { class: 'muted form-intro' }, c.owner ? t('assignCurrent', c.owner.username) : t('assignNobody')),
    h('div', { class: 'field grow' }, h('label', { for: 'assign-owner' }, t('assignTo')), select),
    h('div', { class: 'field end' },
      h('button', { type: 'submit', id: 'assign-submit', disabled: !this.users || this.assignBusy }, this.assignBusy ? t('working') : t('assignSubmit'))),
    h('p', {
      id: 'assign-message', tabindex: '-1', class: ['form-message', message ? 'error' : 'notice'], role: message ? 'alert' : 'status',
    }, message || say(this.assignNotice) || null));
  }

  async assign(c, ownerId) {
    this.assignNotice = '';
    if (!ownerId) {
      this.assignError = later('assignPickFirst');
      this.refresh('assign-owner');
      return;
    }
    if (c.owner && same(c.owner.id, ownerId)) {
      this.assignError = '';
      this.assignNotice = later('assignSame', c.owner.username);
      this.refresh('assign-message');
      return;
    }
    this.assignBusy = true;
    this.assignError = '';
    this.refresh();
    try {
      const data = await this.ctx.request(ASSIGN_CLIENT, { clientId: c.id, ownerId });
      this.assignBusy = false;
      const changed = data.assignClient;
      this.assignNotice = later('assignDone', changed.owner ? changed.owner.username : '');
      this.onChange({ owner: changed.owner, team: changed.team });
      this.ctx.announce(say(this.assignNotice));
      document.getElementById('assign-message')?.focus();
    } catch (e) {
      this.assignBusy = false;
      if (e.handled) return;
      this.assignError = () => formError(this.ctx, e);
      this.refresh('assign-message');
    }
  }

  // ---- delete ---------------------------------------------------------------------------------

  deletePart(c) {
    if (!this.confirming) {
      return h('div', { class: 'delete-part' },
        h('h3', { class: 'form-title', id: 'delete-title' }, t('deleteClientTitle')),
        h('p', { class: 'muted' }, t('deleteClientIntro')),
        h('button', {
          type: 'button', class: 'secondary danger', id: 'delete-client', 'aria-expanded': 'false',
          on: { click: () => { this.confirming = true; this.typed = ''; this.deleteError = ''; this.refresh('delete-confirm-name'); } },
        }, t('deleteClient')));
    }
    const input = h('input', {
      id: 'delete-confirm-name', name: 'confirm', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'delete-confirm-help',
      on: { input: () => { this.typed = input.value; } },
    });
    input.value = this.typed;
    return h('form', {
      class: 'delete-confirm', id: 'delete-confirm', 'aria-labelledby': 'delete-confirm-title', novalidate: true,
      on: {
        submit: (ev) => { ev.preventDefault(); this.remove(c); },
        keydown: (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); this.cancelDelete(); } },
      },
    },
    h('h3', { id: 'delete-confirm-title', class: 'form-title' }, t('deleteConfirmTitle', c.displayName)),
    h('p', { id: 'delete-confirm-help' }, t('deleteConfirmHelp')),
    h('label', { for: 'delete-confirm-name' }, t('deleteConfirmLabel', c.displayName)),
    input,
    h('p', {
      id: 'delete-message', class: ['form-message', this.deleteError ? 'error' : 'notice'], role: this.deleteError ? 'alert' : 'status',
    }, say(this.deleteError) || null),
    h('div', { class: 'inline' },
      h('button', { type: 'submit', class: 'danger-solid', id: 'delete-confirm-submit', disabled: this.deleteBusy }, this.deleteBusy ? t('working') : t('deleteConfirmSubmit')),
      h('button', { type: 'button', class: 'secondary', id: 'delete-cancel', disabled: this.deleteBusy, on: { click: () => this.cancelDelete() } }, t('cancel'))));
  }

  cancelDelete() {
    this.confirming = false;
    this.deleteError = '';
    this.typed = '';
    this.refresh('delete-client');
  }

  async remove(c) {
    if (this.typed.trim() !== c.displayName.trim()) {
      this.deleteError = later('deleteConfirmMismatch');
      this.refresh('delete-confirm-name');
      return;
    }
    this.deleteBusy = true;
    this.deleteError = '';
    this.refresh();
    try {
      await this.ctx.request(DELETE_CLIENT, { id: c.id });
      this.deleteBusy = false;
      this.confirming = false;
      this.ctx.announce(t('deleteClientDone', c.displayName));
      this.ctx.navigate('#/clients');
    } catch (e) {
      this.deleteBusy = false;
      if (e.handled) return;
      this.deleteError = () => formError(this.ctx, e);
      this.refresh('delete-confirm-name');
    }
  }

  /** Redraws the client page (through its owner view) and focuses `id` when given. */
  refresh(id) {
    this.onChange({});
    if (id) document.getElementById(id)?.focus();
  }
}
