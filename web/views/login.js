// The sign-in form. Errors are shown inline under the fields: a wrong username or password
// (UNAUTHENTICATED), throttling (RATE_LIMITED with `retryAfter` seconds: the button stays off
// and counts down until then), or why the server could not be reached.
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
    this.lockedUntil = 0; // Date.now() after which signing in may work again (throttling)
    this.countdown = 0;
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
      const submit = h('button', { type: 'submit', id: 'login-submit', disabled: this.busy || this.locked() }, this.busy ? t('signingIn') : t('signIn'));
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

  locked() {
    return this.lockedUntil > Date.now();
  }

  /** Throttled: say for how long, keep the button off and count down. */
  lock(seconds) {
    this.lockedUntil = Date.now() + seconds * 1000;
    clearInterval(this.countdown);
    const tick = () => {
      const left = Math.ceil((this.lockedUntil - Date.now()) / 1000);
      if (!this.parts || !this.el.isConnected) { clearInterval(this.countdown); return; }
      if (left <= 0) {
        clearInterval(this.countdown);
        this.parts.submit.disabled = false;
        this.showError(t('loginUnlocked'), false);
        return;
      }
      this.parts.submit.disabled = true;
      this.showError(t('loginThrottled', waitText(left)), false);
    };
    tick();
    this.countdown = setInterval(tick, 1000);
  }

  showError(text, alert = true) {
    this.error = text;
    this.notice = '';
    const { message } = this.parts;
    message.className = 'error';
    // The countdown updates every second: polite, not an alert each time.
    message.setAttribute('role', alert ? 'alert' : 'status');
    replace(message, text);
  }

  async submit(usernameInput, passwordInput) {
    if (this.busy || this.locked()) return;
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
      if (e.code === 'RATE_LIMITED') {
        this.lock(e.retryAfter || 60);
      } else if (e.code === 'UNAUTHENTICATED' || e.code === 'BAD_USER_INPUT') {
        this.showError(t('loginFailed'));
      } else {
        this.showError(this.ctx.errorMessage(e));
      }
      passwordInput.focus();
    }
  }
}

/** "4 мин" / "45 с" */
function waitText(seconds) {
  return seconds >= 90 ? t('minutes', Math.ceil(seconds / 60)) : t('seconds', seconds);
}
