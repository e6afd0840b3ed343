// The sign-in form. A wrong password or throttling comes back as a GraphQL error
// (BAD_USER_INPUT / UNAUTHENTICATED) whose message is the server's: it is shown as it is.
import { h, replace, focusHeading } from '../dom.js';
import { t } from '../i18n.js';
import { LOGIN } from '../queries.js';
import { preserveFocus } from './common.js';

export class LoginView {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{notice?: string, error?: string, onLogin: (user: object) => void}} options
   *   notice: a neutral note (signed out, session ended); error: shown as an error at once.
   */
  constructor(ctx, { notice = '', error = '', onLogin }) {
    this.ctx = ctx;
    this.notice = notice;
    this.error = error;
    this.onLogin = onLogin;
    this.busy = false;
    this.username = '';
    this.el = h('section', { class: 'view login', 'aria-labelledby': 'login-title' });
  }

  title() {
    return t('loginTitle');
  }

  async show() {
    this.render();
    const field = this.el.querySelector(this.username ? '#login-password' : '#login-username');
    if (field) field.focus();
    else focusHeading(this.el.querySelector('h1'));
  }

  render() {
    preserveFocus(() => {
      const username = h('input', {
        id: 'login-username', name: 'username', autocomplete: 'username', required: true,
        autocapitalize: 'none', spellcheck: 'false',
        on: { input: () => { this.username = username.value; } },
      });
      username.value = this.username;
      const password = h('input', {
        id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
      });
      const message = h('p', {
        id: 'login-message', class: this.error ? 'error' : 'notice', role: this.error ? 'alert' : 'status',
      }, this.error || this.notice || null);
      const submit = h('button', { type: 'submit', id: 'login-submit', disabled: this.busy }, this.busy ? t('signingIn') : t('signIn'));
      const form = h('form', {
        id: 'login-form', class: 'stack', novalidate: true, 'aria-describedby': 'login-message',
        on: { submit: (ev) => { ev.preventDefault(); this.submit(username, password); } },
      },
      h('label', { for: 'login-username' }, t('username')), username,
      h('label', { for: 'login-password' }, t('password')), password,
      message,
      submit);
      replace(this.el, h('div', { class: 'card narrow' }, h('h1', { id: 'login-title' }, t('loginTitle')), form));
      this.parts = { username, password, message, submit };
    });
  }

  showError(text) {
    this.error = text;
    this.notice = '';
    const { message } = this.parts;
    message.className = 'error';
    message.setAttribute('role', 'alert');
    replace(message, text);
  }

  async submit(usernameInput, passwordInput) {
    if (this.busy) return;
    const username = usernameInput.value.trim();
    const password = passwordInput.value;
    if (!username) { usernameInput.focus(); return; }
    if (!password) { passwordInput.focus(); return; }
    this.busy = true;
    this.parts.submit.disabled = true;
    replace(this.parts.submit, t('signingIn'));
    try {
      const data = await this.ctx.request(LOGIN, { username, password }, { quiet: true });
      this.onLogin(data.login.user);
    } catch (e) {
      this.busy = false;
      this.parts.submit.disabled = false;
      replace(this.parts.submit, t('signIn'));
      passwordInput.value = '';
      this.showError(this.ctx.errorMessage(e));
      passwordInput.focus();
    }
  }
}
