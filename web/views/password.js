// Change my password (#/password): the current password, a new one twice. After a password reset
// by an administrator this is the only page a user can reach until they choose a new password.
import { h, replace, focusHeading } from '../dom.js';
import { t } from '../i18n.js';
import { CHANGE_PASSWORD } from '../queries.js';

export class PasswordView {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{required: boolean, onChanged: (user: object) => void}} opts
   */
  constructor(ctx, { required, onChanged }) {
    this.ctx = ctx;
    this.required = required;
    this.onChanged = onChanged;
    this.error = '';
    this.notice = '';
    this.busy = false;
    // What was typed survives a re-render (an error shown, the language switched).
    this.values = { 'password-current': '', 'password-new': '', 'password-repeat': '' };
    this.el = h('section', { class: 'view password', 'aria-labelledby': 'password-title' });
  }

  title() {
    return t('passwordTitle');
  }

  async show() {
    this.render();
    focusHeading(this.el.querySelector('h1'));
  }

  render() {
    const field = (id, key, autocomplete) => [
      h('label', { for: id }, t(key)),
      h('input', {
        id, name: id, type: 'password', required: true, autocomplete, maxlength: 1024,
        minlength: key === 'currentPassword' ? null : 12,
        value: this.values[id],
        on: { input: (ev) => { this.values[id] = ev.target.value; } },
      }),
    ];
    replace(this.el,
      h('h1', { id: 'password-title', tabindex: '-1' }, t('passwordTitle')),
      this.required ? h('p', { class: 'notice', id: 'password-required' }, t('passwordChangeRequired')) : null,
      h('form', { class: 'stack password-form', novalidate: true, on: { submit: (ev) => this.submit(ev) } },
        ...field('password-current', 'currentPassword', 'current-password'),
        ...field('password-new', 'newPassword', 'new-password'),
        ...field('password-repeat', 'repeatPassword', 'new-password'),
        h('p', { class: 'hint' }, t('passwordPolicy')),
        h('button', { type: 'submit', id: 'password-submit', disabled: this.busy }, t('changePassword'))),
      h('p', {
        id: 'password-message', class: this.error ? 'error' : 'notice', role: this.error ? 'alert' : 'status',
      }, this.error || this.notice || null));
  }

  async submit(ev) {
    ev.preventDefault();
    const value = (id) => this.values[id];
    const current = value('password-current');
    const next = value('password-new');
    this.notice = '';
    if (!current || !next) {
      this.error = t('passwordMissing');
    } else if (next !== value('password-repeat')) {
      this.error = t('passwordMismatch');
    } else if (next.length < 12) {
      this.error = t('passwordPolicy');
    } else {
      this.error = '';
    }
    if (this.error) {
      this.render();
      return;
    }
    this.busy = true;
    this.render();
    try {
      const data = await this.ctx.request(CHANGE_PASSWORD, { current, next });
      this.busy = false;
      this.notice = t('passwordChanged');
      this.required = false;
      this.values = { 'password-current': '', 'password-new': '', 'password-repeat': '' };
      this.render();
      this.onChanged(data.changePassword.user);
    } catch (e) {
      this.busy = false;
      this.error = this.ctx.errorMessage(e);
      this.render();
    }
  }
}
