// "New client" on the dashboard (managers and administrators: `createClient`): a button that
// opens a form (name, e-mail, phone, status); the new client's page opens when it is made.
// What was typed survives the dashboard being redrawn (a language switch, a reload of the list).
import { h, replace } from '../dom.js';
import { label, t } from '../i18n.js';
import { CREATE_CLIENT } from '../queries.js';
import { formError, later, say } from './common.js';

const EMPTY = { displayName: '', email: '', phone: '', status: 'ACTIVE' };

export class NewClientForm {
  /** @param {import('../app.js').Context} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.open = false;
    this.busy = false;
    this.error = '';
    this.values = { ...EMPTY };
    this.el = h('div', { class: 'new-client', id: 'new-client' });
    this.button = null;
  }

  /** Whether the signed-in user may create clients. */
  allowed() {
    const u = this.ctx.user();
    return Boolean(u && (u.role === 'ADMIN' || u.role === 'MANAGER'));
  }

  /** The button that opens the form (a new one each time the dashboard is drawn). */
  toggle() {
    if (!this.allowed()) return null;
    this.button = h('button', {
      type: 'button', class: 'secondary', id: 'new-client-toggle',
      'aria-expanded': String(this.open), 'aria-controls': 'new-client',
      on: { click: () => (this.open ? this.close() : this.show()) },
    }, t('newClient'));
    return this.button;
  }

  show() {
    this.open = true;
    this.render();
    document.getElementById('new-client-name')?.focus();
  }

  close() {
    this.open = false;
    this.error = '';
    this.render();
    document.getElementById('new-client-toggle')?.focus();
  }

  render() {
    if (this.button) this.button.setAttribute('aria-expanded', String(this.open));
    if (!this.open || !this.allowed()) { replace(this.el); return this.el; }
    const v = this.values;
    const input = (id, key, attrs) => {
      const el = h('input', {
        id, name: key, autocomplete: 'off', ...attrs,
        on: { input: () => { v[key] = el.value; if (key === 'displayName' && this.missingName && el.value.trim()) this.clearError(); } },
      });
      el.value = v[key];
      return el;
    };
    const status = h('select', { id: 'new-client-status', name: 'status', on: { change: () => { v.status = status.value; } } },
      ['ACTIVE', 'INACTIVE'].map((s) => h('option', { value: s }, label('ClientStatus', s))));
    status.value = v.status;
    replace(this.el, h('form', {
      class: 'filters admin-form', id: 'new-client-form', 'aria-labelledby': 'new-client-title', novalidate: true,
      on: {
        submit: (ev) => { ev.preventDefault(); this.create(); },
        keydown: (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); this.close(); } },
      },
    },
    h('h2', { id: 'new-client-title', class: 'form-title' }, t('newClientTitle')),
    h('div', { class: 'field grow' }, h('label', { for: 'new-client-name' }, t('displayName')),
      input('new-client-name', 'displayName', { required: true, maxlength: 200 })),
    h('div', { class: 'field grow' }, h('label', { for: 'new-client-email' }, t('email')),
      input('new-client-email', 'email', { type: 'email', maxlength: 254 })),
    h('div', { class: 'field' }, h('label', { for: 'new-client-phone' }, t('phone')),
      input('new-client-phone', 'phone', { type: 'tel', maxlength: 40 })),
    h('div', { class: 'field' }, h('label', { for: 'new-client-status' }, t('status')), status),
    h('div', { class: 'field end buttons' },
      h('button', { type: 'submit', id: 'new-client-submit', disabled: this.busy }, this.busy ? t('working') : t('newClientCreate')),
      h('button', { type: 'button', class: 'secondary', id: 'new-client-cancel', disabled: this.busy, on: { click: () => this.close() } }, t('cancel'))),
    h('p', {
      id: 'new-client-message', tabindex: '-1', class: ['form-message', this.error ? 'error' : 'notice'], role: this.error ? 'alert' : 'status',
    }, say(this.error) || null)));
    return this.el;
  }

  /** The name is there now: "enter the name" no longer stands under the form. */
  clearError() {
    this.error = '';
    this.missingName = false;
    const message = document.getElementById('new-client-message');
    if (!message) return;
    replace(message);
    message.className = 'form-message notice';
    message.setAttribute('role', 'status');
  }

  async create() {
    const v = this.values;
    const input = { displayName: v.displayName.trim(), status: v.status };
    if (v.email.trim()) input.email = v.email.trim();
    if (v.phone.trim()) input.phone = v.phone.trim();
    if (!input.displayName) {
      this.error = later('nameRequired');
      this.missingName = true;
      this.render();
      document.getElementById('new-client-name')?.focus();
      return;
    }
    this.busy = true;
    this.error = '';
    this.missingName = false;
    this.render();
    try {
      const data = await this.ctx.request(CREATE_CLIENT, { input });
      const made = data.createClient;
      this.busy = false;
      this.open = false;
      this.values = { ...EMPTY };
      this.render();
      this.ctx.announce(t('newClientDone', made.displayName));
      this.ctx.navigate(`#/client/${encodeURIComponent(made.id)}`);
    } catch (e) {
      this.busy = false;
      if (e.handled) return;
      this.error = () => formError(this.ctx, e);
      this.render();
      document.getElementById('new-client-message')?.focus();
    }
  }
}
