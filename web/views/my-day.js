// "My day" (#/), where a signed-in user lands: my overdue tasks, today's (today in my time zone,
// which is shown and can be changed) and the coming week's, the ones I finished lately, each
// with its client, priority, due time on my clock and Complete / Reopen (a task made for a
// signal shows the signal's evidence); the open signals of my book with Acknowledge and Dismiss
// (with a reason); and the clients of my book changed most recently. `myTasksChanged` and
// `signalRaised` keep the lists current while the page is open.
import { h, replace, focusHeading } from '../dom.js';
import { lang, t } from '../i18n.js';
import { dateTimeIn, validTimeZone } from '../format.js';
import {
  ACKNOWLEDGE_SIGNAL, DISMISS_SIGNAL, MY_DAY, MY_TASKS_CHANGED, SET_MY_TIME_ZONE, SIGNAL_RAISED,
} from '../queries.js';
import { formError, preserveFocus, renderStatus, statusBadge } from './common.js';
import { signalItem } from './signals.js';
import { runTaskAction, taskItem } from './tasks.js';

/** Russia's time zones, west to east (any other IANA name can be typed). */
export const RUSSIAN_ZONES = [
  'Europe/Kaliningrad', 'Europe/Moscow', 'Europe/Samara', 'Asia/Yekaterinburg', 'Asia/Omsk',
  'Asia/Novosibirsk', 'Asia/Krasnoyarsk', 'Asia/Irkutsk', 'Asia/Yakutsk', 'Asia/Vladivostok',
  'Asia/Magadan', 'Asia/Kamchatka',
];
const OTHER_ZONE = 'other';
const RECENT_CLIENTS = 8;
const RECENT_DONE = 5;
const RELOAD_DELAY_MS = 250;

export class MyDayView {
  /** @param {import('../app.js').Context} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.data = null;
    this.loading = false;
    this.error = '';
    this.busy = null; // id of the task being changed
    this.actionError = '';
    this.zoneChoice = null; // the select's value while it is being changed
    this.zoneBusy = false;
    this.zoneMessage = '';
    this.zoneError = false;
    this.signalBusy = null; // id of the signal being changed
    this.dismissing = null; // id of the signal whose reason form is open
    this.dismissError = '';
    this.el = h('section', { class: 'view my-day', 'aria-labelledby': 'day-title' });
  }

  title() {
    return t('dayTitle');
  }

  async show() {
    this.build();
    this.listen();
    await this.load();
    focusHeading(this.el.querySelector('h1'));
  }

  render() {
    this.build();
    // Signals and their figures come written in the language asked for: ask again.
    if (this.data && this.dataLang !== lang()) this.load({ quiet: true });
  }

  build() {
    preserveFocus(() => {
      this.parts = {
        heading: h('h1', { id: 'day-title' }, t('dayTitle')),
        status: h('p', { class: 'status', 'aria-live': 'polite' }),
        body: h('div', { class: 'day-body' }),
      };
      replace(this.el, this.parts.heading, this.parts.status, this.parts.body);
      this.update();
    });
  }

  /** Live: each change to one of my tasks asks for the lists again (the server sorts them into days). */
  listen() {
    if (this.stopSub) return;
    const later = () => {
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => this.load({ quiet: true }), RELOAD_DELAY_MS);
    };
    this.stopSignals = this.ctx.subscribe({ query: SIGNAL_RAISED, variables: { lang: lang().toUpperCase() } }, {
      next: (data) => {
        const signal = data && data.signalRaised;
        if (!signal) return;
        this.ctx.announce(t('signalNew', signal.title));
        later();
      },
      error: () => { this.stopSignals = null; },
      complete: () => { this.stopSignals = null; },
    });
    this.stopSub = this.ctx.subscribe({ query: MY_TASKS_CHANGED, variables: { lang: lang().toUpperCase() } }, {
      next: (data) => {
        const task = data && data.myTasksChanged;
        if (!task) return;
        this.patch(task);
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => this.load({ quiet: true }), RELOAD_DELAY_MS);
      },
      error: () => { this.stopSub = null; delete this.el.dataset.live; },
      complete: () => { this.stopSub = null; delete this.el.dataset.live; },
    });
    // Once the server has read the subscription, changes reach this page (`data-live`).
    this.ctx.wsRoundTrip().then(() => { if (this.stopSub) this.el.dataset.live = 'on'; }).catch(() => {});
  }

  async load({ quiet = false } = {}) {
    if (!quiet) {
      this.loading = true;
      this.error = '';
      this.updateStatus();
    }
    try {
      const asked = lang();
      this.data = await this.ctx.request(MY_DAY, { lang: asked.toUpperCase() });
      this.dataLang = asked;
      this.error = '';
    } catch (e) {
      if (e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    preserveFocus(() => this.update());
  }

  /** A changed task replaces its copies in the lists at once (until the lists come again). */
  patch(task, { redraw = true } = {}) {
    if (!this.data) return;
    for (const key of ['overdue', 'today', 'week', 'done']) {
      this.data[key] = this.data[key].map((x) => (x.id === task.id ? task : x));
    }
    if (redraw) preserveFocus(() => this.update());
  }

  updateStatus() {
    if (!this.parts) return;
    renderStatus(this.parts.status, {
      loading: this.loading, error: this.error, onRetry: () => this.load(), retryId: 'day-retry',
    });
  }

  update() {
    if (!this.parts) return;
    this.updateStatus();
    const d = this.data;
    if (!d) { replace(this.parts.body); return; }
    const zone = d.me.timeZone;
    // A task is listed once: overdue, else today, else later this week.
    const seen = new Set();
    const only = (list) => list.filter((x) => !seen.has(x.id) && seen.add(x.id));
    const overdue = only(d.overdue);
    const today = only(d.today);
    const week = only(d.week);
    const done = [...d.done].sort((a, b) => Date.parse(b.closedAt || 0) - Date.parse(a.closedAt || 0)).slice(0, RECENT_DONE);
    const list = (id, title, tasks, empty) => h('section', { class: 'card day-list', id, 'aria-labelledby': `${id}-title` },
      h('h2', { id: `${id}-title` }, title, ' ', h('span', { class: 'count muted' }, `(${tasks.length})`)),
      tasks.length
        ? h('ul', { class: 'tasks plain' }, tasks.map((task) => taskItem(task, {
          prefix: 'day',
          timeZone: zone,
          clientName: (cid) => (task.client && task.client.id === cid ? task.client.displayName : null),
          actions: ['complete', 'reopen'],
          busy: this.busy === task.id,
          onAction: (x, a) => this.act(x, a),
        })))
        : h('p', { class: 'muted' }, empty));
    replace(this.parts.body,
      this.zoneForm(zone),
      this.actionError ? h('p', { class: 'error', role: 'alert', id: 'day-error' }, this.actionError) : null,
      this.signalList(d.signals, zone),
      h('div', { class: 'day-grid' },
        list('tasks-overdue', t('dayOverdue'), overdue, t('dayNoOverdue')),
        list('tasks-today', t('dayToday'), today, t('dayNoToday')),
        list('tasks-week', t('dayWeek'), week, t('dayNoWeek')),
        list('tasks-done', t('dayDone'), done, t('dayNoDone'))),
      this.recentClients(d.recentClients, d.clients.totalCount, zone));
  }

  zoneForm(zone) {
    const known = RUSSIAN_ZONES.includes(zone);
    const choice = this.zoneChoice || (known ? zone : OTHER_ZONE);
    const select = h('select', {
      id: 'tz-select', name: 'zone',
      on: { change: () => { this.zoneChoice = select.value; preserveFocus(() => this.update()); } },
    },
    RUSSIAN_ZONES.map((z) => h('option', { value: z }, t(`zone_${z}`))),
    h('option', { value: OTHER_ZONE }, t('zoneOther')));
    select.value = choice;
    const custom = choice === OTHER_ZONE
      ? h('div', { class: 'field grow' },
        h('label', { for: 'tz-custom' }, t('zoneCustom')),
        h('input', { id: 'tz-custom', name: 'custom', autocomplete: 'off', spellcheck: 'false', placeholder: 'Asia/Tbilisi', value: known ? '' : zone }))
      : null;
    return h('form', {
      class: 'filters zone-form', id: 'tz-form', 'aria-labelledby': 'tz-title', novalidate: true,
      on: { submit: (ev) => { ev.preventDefault(); this.saveZone(); } },
    },
    h('p', { class: 'form-title', id: 'tz-title' }, t('zoneNow'), ' ', h('strong', { id: 'tz-current' }, zone),
      h('span', { class: 'muted' }, ` · ${t('zoneClock', dateTimeIn(new Date().toISOString(), zone))}`)),
    h('div', { class: 'field' }, h('label', { for: 'tz-select' }, t('zoneLabel')), select),
    custom,
    h('div', { class: 'field end' }, h('button', { type: 'submit', class: 'secondary', id: 'tz-save', disabled: this.zoneBusy }, t('zoneSave'))),
    h('p', {
      id: 'tz-message', class: ['form-message', this.zoneError ? 'error' : 'notice'], role: this.zoneError ? 'alert' : 'status',
    }, this.zoneMessage || null));
  }

  async saveZone() {
    const select = this.el.querySelector('#tz-select');
    const custom = this.el.querySelector('#tz-custom');
    const zone = select.value === OTHER_ZONE ? (custom ? custom.value.trim() : '') : select.value;
    if (!validTimeZone(zone)) {
      this.zoneError = true;
      this.zoneMessage = t('zoneInvalid');
      preserveFocus(() => this.update());
      (this.el.querySelector('#tz-custom') || this.el.querySelector('#tz-select')).focus();
      return;
    }
    this.zoneBusy = true;
    this.zoneMessage = '';
    preserveFocus(() => this.update());
    try {
      const data = await this.ctx.request(SET_MY_TIME_ZONE, { timeZone: zone });
      this.zoneChoice = null;
      this.zoneError = false;
      this.zoneMessage = t('zoneSaved', data.setMyTimeZone.timeZone);
      // The other pages show times on this clock too.
      const user = this.ctx.user();
      if (user) user.timeZone = data.setMyTimeZone.timeZone;
      this.ctx.announce(this.zoneMessage);
      this.zoneBusy = false;
      // "Today" moved with the zone: the lists again.
      await this.load({ quiet: true });
    } catch (e) {
      this.zoneBusy = false;
      if (e.handled) return;
      this.zoneError = true;
      this.zoneMessage = formError(this.ctx, e);
      preserveFocus(() => this.update());
    }
  }

  async act(task, action) {
    this.busy = task.id;
    this.actionError = '';
    preserveFocus(() => this.update());
    try {
      this.patch(await runTaskAction(this.ctx, task, action), { redraw: false });
      this.busy = null;
      await this.load({ quiet: true });
    } catch (e) {
      this.busy = null;
      if (e.handled) return;
      this.actionError = this.ctx.errorMessage(e);
      preserveFocus(() => this.update());
    }
    // The button is gone with its list entry: the focus goes to the heading of the page.
    if (!document.activeElement || document.activeElement === document.body) focusHeading(this.parts.heading);
  }

  /** The open signals of my book, newest first. */
  signalList(signals, zone) {
    const nodes = signals ? signals.edges.map((e) => e.node) : [];
    const user = this.ctx.user();
    const canAct = !!user && user.role !== 'VIEWER';
    return h('section', { class: 'card day-list signals', id: 'day-signals', 'aria-labelledby': 'day-signals-title' },
      h('h2', { id: 'day-signals-title' }, t('daySignals'), ' ', h('span', { class: 'count muted' }, `(${signals ? signals.totalCount : 0})`)),
      h('p', { class: 'muted small' }, t('daySignalsHow', signals ? signals.totalCount : 0)),
      nodes.length
        ? h('ul', { class: 'tasks plain' }, nodes.map((s) => signalItem(s, {
          prefix: 'sig',
          timeZone: zone,
          canAct,
          busy: this.signalBusy === s.id,
          dismissing: this.dismissing === s.id,
          draft: this.dismissing === s.id ? this.dismissDraft : '',
          error: this.dismissing === s.id ? this.dismissError : '',
          onAction: (x, a, reason) => this.actOnSignal(x, a, reason),
        })))
        : h('p', { class: 'muted' }, t('dayNoSignals')));
  }

  async actOnSignal(signal, action, reason) {
    if (action === 'draft') {
      this.dismissDraft = reason;
      return;
    }
    if (action === 'ask-dismiss' || action === 'cancel-dismiss') {
      this.dismissing = action === 'ask-dismiss' ? signal.id : null;
      this.dismissError = '';
      this.dismissDraft = '';
      preserveFocus(() => this.update());
      const target = action === 'ask-dismiss'
        ? this.el.querySelector(`#sig-reason-${CSS.escape(signal.id)}`)
        : this.el.querySelector(`#sig-dismiss-${CSS.escape(signal.id)}`);
      if (target) target.focus();
      return;
    }
    if (action === 'dismiss' && !(reason || '').trim()) {
      this.dismissError = t('signalReasonNeeded');
      preserveFocus(() => this.update());
      const input = this.el.querySelector(`#sig-reason-${CSS.escape(signal.id)}`);
      if (input) input.focus();
      return;
    }
    this.signalBusy = signal.id;
    preserveFocus(() => this.update());
    try {
      if (action === 'acknowledge') {
        await this.ctx.request(ACKNOWLEDGE_SIGNAL, { id: signal.id, lang: lang().toUpperCase() });
        this.ctx.announce(t('signalAcknowledged', signal.title));
      } else {
        await this.ctx.request(DISMISS_SIGNAL, { id: signal.id, reason: reason.trim(), lang: lang().toUpperCase() });
        this.ctx.announce(t('signalDismissed', signal.title));
        this.dismissing = null;
        this.dismissDraft = '';
      }
      this.dismissError = '';
      this.signalBusy = null;
      await this.load({ quiet: true });
    } catch (e) {
      this.signalBusy = null;
      if (e.handled) return;
      if (action === 'dismiss') this.dismissError = formError(this.ctx, e);
      else this.actionError = this.ctx.errorMessage(e);
      preserveFocus(() => this.update());
    }
    if (!document.activeElement || document.activeElement === document.body) focusHeading(this.parts.heading);
  }

  /** The clients of my book where something happened most recently (their timeline grew). */
  recentClients(nodes, total, zone) {
    return h('section', { class: 'recent-clients', id: 'recent-clients', 'aria-labelledby': 'recent-clients-title' },
      h('h2', { id: 'recent-clients-title' }, t('dayRecentClients')),
      h('p', { class: 'muted small' }, t('dayRecentHow', total), ' ',
        h('a', { href: '#/clients', id: 'day-all-clients' }, t('dayAllClients'))),
      nodes.length
        ? h('ul', { class: 'recent plain' }, nodes.map((c) => h('li', { dataset: { clientId: c.id } },
          h('a', { href: `#/client/${encodeURIComponent(c.id)}`, class: 'client-link' }, c.displayName), ' ',
          statusBadge(c.status), ' ',
          h('span', { class: 'muted small' }, t('dayChangedAt', dateTimeIn(c.lastActivityAt, zone))))))
        : h('p', { class: 'muted' }, t('dayNoClients')));
  }

  destroy() {
    clearTimeout(this.reloadTimer);
    if (this.stopSub) this.stopSub();
    this.stopSub = null;
    if (this.stopSignals) this.stopSignals();
    this.stopSignals = null;
  }
}
